/**
 * What the shards' links deliver to the supervisor, routed: a reply or progress to its
 * pending call, a backend's question to the call's client, a server's state to the start
 * gate, the process records and the supervisor, catalogs and notifications to the supervisor
 * (unless the server was removed); and the calls a link could not carry, failed alone.
 *
 * `route` is on the hot path: each shard's link calls it directly for every reply.
 */
import type { ProjectInstances } from './project-instances.js';
import type { ClientOutcome, SupervisorMessage, WorkerMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { isCallersInstance } from '../../shared/messages.js';
import { assertNever } from '../../shared/exhaustive.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { ProcessRecords } from './process-records.js';
import type { ServerRemovals } from './server-removal.js';
import type { Pending, Shard, ShardEvents } from './pending.js';
import type { StartGate } from './start-gate.js';
import { failPendingCall } from './pending.js';

const log = logger('shards');

/** The pool's state the routing reads and answers from: the same objects, not copies. */
export interface ShardMessagesContext {
  pending: Map<number, Pending>;
  /** Server id → shard, for the servers configured now. */
  shardOf: ReadonlyMap<string, number>;
  gate: StartGate;
  pids: ProcessRecords;
  removals: ServerRemovals;
  events: ShardEvents;
  /** The states of projects' own instances, for /api. */
  projects: ProjectInstances;
  /** Holds a call in the start gate again, for what is left of its time. */
  hold: (callId: number, pending: Pending) => void;
}

export class ShardMessages {
  readonly #pending: Map<number, Pending>;
  readonly #shardOf: ReadonlyMap<string, number>;
  readonly #gate: StartGate;
  readonly #pids: ProcessRecords;
  readonly #removals: ServerRemovals;
  readonly #events: ShardEvents;
  readonly #projects: ProjectInstances;
  readonly #hold: (callId: number, pending: Pending) => void;

  constructor(context: ShardMessagesContext) {
    this.#pending = context.pending;
    this.#shardOf = context.shardOf;
    this.#gate = context.gate;
    this.#pids = context.pids;
    this.#removals = context.removals;
    this.#events = context.events;
    this.#projects = context.projects;
    this.#hold = context.hold;
  }

  /** What a running shard says (every message but `ready`, which its start awaits). */
  route(shard: Shard, message: WorkerMessage): void {
    switch (message.type) {
      case 'reply': {
        const pending = this.#pending.get(message.callId);
        if (pending === undefined) return; // cancelled meanwhile
        if (!message.ok && this.#heldAgain(message.callId, pending, message.error)) return;
        this.#pending.delete(message.callId);
        pending.handlers.reply(message);
        return;
      }
      case 'call-notification':
        this.#pending.get(message.callId)?.handlers.notification(message.method, message.params);
        return;
      case 'server-state': {
        // A caller's own instance has a pid to clean up but no say in the server's state.
        // Its records are per process: an owner's next instance may start before the last
        // one's `stopped` (which then names its pid) arrives.
        const owner =
          message.session ??
          (message.identity === undefined ? undefined : `@${message.identity}`) ??
          (message.project === undefined ? undefined : `/${message.project}`);
        const key =
          owner === undefined
            ? message.server
            : `${message.server}\u0000${owner}\u0000${message.pid}`;
        if (
          message.pid !== undefined &&
          (message.state === 'ready' || message.state === 'starting')
        ) {
          this.#pids.set(key, { server: message.server, pid: message.pid });
        } else if (
          message.state === 'stopped' ||
          message.state === 'restarting' ||
          message.state === 'failed' ||
          message.state === 'idle' ||
          message.state === 'needs-auth'
        ) {
          this.#pids.delete(key);
        }
        if (isCallersInstance(message)) {
          this.#projects.record(message);
          return;
        }
        // A removed server's last words: its `stopped` ends the removal; anything after is
        // stale (the removal timed out), unless the id was added back.
        const removing = this.#removals.has(message.server);
        // The gate first: whoever hears of the state next may route a call by it.
        if (!removing) this.#gate.changed(message.server, message.state, message.error);
        if (removing || this.#shardOf.has(message.server)) this.#events.serverState(message);
        if (removing && message.state === 'stopped') this.#removals.ended(message.server, false);
        return;
      }
      // A removed server's late catalog or notification must not bring it back.
      case 'catalog':
        if (this.#shardOf.has(message.server)) this.#events.catalog(message);
        return;
      case 'server-notification':
        if (this.#shardOf.has(message.server)) this.#events.notification(message);
        return;
      case 'client-request': {
        const { server, requestId } = message;
        const answer = (outcome: ClientOutcome): void =>
          shard.link?.send({ type: 'client-response', server, requestId, ...outcome });
        const pending = this.#pending.get(message.callId);
        if (pending === undefined) {
          answer({
            ok: false,
            error: rpcError(
              JsonRpcCode.InternalError,
              'the call that caused this request has ended',
            ),
          });
          return;
        }
        pending.handlers.clientRequest(message.method, message.params, answer);
        return;
      }
      case 'call-stats':
        this.#events.callStats(message.rows);
        return;
      case 'calls':
        this.#events.calls(message.calls);
        return;
      case 'ready':
      case 'stopped':
        return;
      default:
        assertNever(message);
    }
  }

  /** A call the thread hop could not carry fails alone; anything else is logged. */
  unsendable(message: SupervisorMessage, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (message.type !== 'call') {
      log.error(`could not send ${message.type} to a shard: ${reason}`);
      return;
    }
    const refusal = rpcError(
      JsonRpcCode.InvalidParams,
      `Invalid params: the request cannot be passed to server '${message.server}' (${reason})`,
    );
    failPendingCall(this.#pending, message.callId, refusal);
  }

  /**
   * The worker refused a call because its server is not ready (its state was ahead of the
   * gate's): the call waits again for what is left of its time.
   */
  #heldAgain(callId: number, pending: Pending, error: WireError): boolean {
    if (!this.#gate.refusedAsStarting(pending.server, error)) return false;
    if (pending.deadline !== 0 && Date.now() >= pending.deadline) return false;
    this.#hold(callId, pending);
    return true;
  }
}
