/**
 * The shard workers, seen from the supervisor: piscina owns the threads, each shard runs
 * one long-lived task that received a transferred MessagePort, and every call, reply,
 * progress, catalog and state change flows on that port (`shared/messages.ts`).
 *
 * Per-call piscina tasks would cost ~60% of the hop
 * (docs/architecture.md#one-long-lived-piscina-task-per-shard), hence one task per shard.
 * Threads are pinned (min = max, no idle timeout) and atomics are off, because a shard owns
 * child processes and must keep its event loop free. If a shard's thread dies, every call
 * pending on it is answered WORKER_EXITED, its backends' process groups are killed (they are
 * not tied to the thread), and the shard is started again.
 *
 * Config hot reload changes the set of servers one at a time (`addServer`, `removeServer`,
 * `replaceServer`) without touching the others: the shard count stays, so every other
 * server keeps its shard, its process and its calls. The routing tables and each shard's
 * server list always describe the current config, so a shard restarted after a crash
 * starts exactly the servers it owns now.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type {
  BackendState,
  CallContext,
  CallMessage,
  ClientOutcome,
  CatalogMessage,
  ForwardedMethod,
  ReplyMessage,
  ServerNotificationMessage,
  ServerStateMessage,
  ShardTaskInput,
  SupervisorMessage,
  WireError,
  WorkerMessage,
} from '../../shared/messages.js';
import { THREAD_PROTOCOL_VERSION, assertNever } from '../../shared/messages.js';
import type { DirectorConfig, ServerConfig } from '../../shared/config/types.js';
import type { JsonObject } from '../../shared/json.js';
import { createLink } from '../../shared/link.js';
import type { Link } from '../../shared/link.js';
import { DirectorErrorCode, JsonRpcCode, directorError, rpcError } from '../../shared/errors.js';
import { currentLogLevel, logger } from '../../shared/log.js';
import { ProcessRecords } from './process-records.js';
import { assignShards, shardFor } from './rendezvous.js';
import { StartGate } from './start-gate.js';

const log = logger('shards');
const SHARD_ENTRY = new URL('../../workers/shard.js', import.meta.url).href;

/** What the caller of `call()` is told; exactly one reply per call unless cancelled. */
export interface CallHandlers {
  reply(message: ReplyMessage): void;
  /** Progress, or a stateless backend's log line for this call. */
  notification(method: string, params: JsonObject): void;
  /** The backend asks the call's client something; `answer` must be called exactly once. */
  clientRequest(method: string, params: JsonObject, answer: (outcome: ClientOutcome) => void): void;
}

/** What the calling client declared: passed on to stateless-era backends. */
export interface ClientDeclarations {
  clientCapabilities?: JsonObject;
  logLevel?: string | undefined;
}

export interface ShardEvents {
  serverState(message: ServerStateMessage): void;
  catalog(message: CatalogMessage): void;
  notification(message: ServerNotificationMessage): void;
}

interface Shard {
  index: number;
  servers: ServerConfig[];
  link: Link<SupervisorMessage> | undefined;
  restarts: number;
}

interface Pending {
  shard: number;
  server: string;
  handlers: CallHandlers;
  message: CallMessage;
  /** Waiting in the start gate, not yet sent to the worker. */
  held: boolean;
  /** When a call held for its server's start stops waiting; 0 until it is first held. */
  deadline: number;
}

/** A `remove-server` sent, waiting for the worker's `stopped` about that server. */
interface Removal {
  shard: number;
  /** Calls to the server pending when it was removed; none may stay unanswered. */
  callIds: number[];
  timer: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
  /** The same id added again meanwhile: sent to the worker once the old one has stopped. */
  successor: ServerConfig | undefined;
}

/** How long `removeServer` waits for the worker before killing the server's processes. */
const REMOVE_GRACE_MS = 10_000;

export class ShardPool {
  readonly #config: DirectorConfig;
  readonly #events: ShardEvents;
  readonly #piscina: Piscina<ShardTaskInput, void>;
  readonly #shards: Shard[];
  /** Server id → shard, for the servers configured now. */
  readonly #shardOf: Map<string, number>;
  /** Per-call timeout of each server, looked up on the hot path. */
  readonly #timeouts: Map<string, number>;
  readonly #pending = new Map<number, Pending>();
  /** Servers being removed, by id. */
  readonly #removals = new Map<string, Removal>();
  /**
   * Process group of each running stdio backend, to kill orphans if a shard dies; recorded
   * in the data folder so that even a daemon that dies leaves none (process-records.ts).
   */
  readonly #pids: ProcessRecords;
  /** Calls to servers that are not ready yet wait here (`start-gate.ts`). */
  readonly #gate: StartGate;
  #nextCallId = 1;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #tasks: Array<Promise<void>> = [];

  /** The daemon's instance id, so shards can refuse the daemon itself as a backend. */
  #instance: string | undefined;

  constructor(
    config: DirectorConfig,
    events: ShardEvents,
    processes: ProcessRecords = new ProcessRecords(null),
  ) {
    this.#config = config;
    this.#events = events;
    this.#pids = processes;
    const count = Math.max(1, config.workers);
    this.#shardOf = assignShards(
      config.servers.map((s) => s.id),
      count,
    );
    this.#timeouts = new Map(config.servers.map((s) => [s.id, s.timeoutMs]));
    this.#shards = Array.from({ length: count }, (_, index) => ({
      index,
      servers: config.servers.filter((s) => this.#shardOf.get(s.id) === index),
      link: undefined,
      restarts: 0,
    }));
    this.#gate = new StartGate(config.limits.startWaitMs, {
      release: (callId) => this.#release(callId),
      refuse: (callId, error) => {
        const pending = this.#pending.get(callId);
        if (pending === undefined) return;
        this.#pending.delete(callId);
        pending.handlers.reply({ type: 'reply', callId, ok: false, error });
      },
      wake: (server) => this.#wake(server),
    });
    for (const server of config.servers) this.#gate.track(server);
    this.#piscina = new Piscina({
      filename: SHARD_ENTRY,
      minThreads: count,
      maxThreads: count,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      name: 'default',
    });
  }

  get shardCount(): number {
    return this.#shards.length;
  }

  /** The pool's threads, for diagnostics (and for tests that kill one). */
  get threads(): readonly Worker[] {
    return this.#piscina.threads;
  }

  shardOf(server: string): number | undefined {
    return this.#shardOf.get(server);
  }

  /**
   * A shared server's state as the routing knows it (its worker's last word); undefined for
   * a server that is not configured or is per session.
   */
  stateOf(server: string): BackendState | undefined {
    return this.#gate.state(server);
  }

  /** How long a call waits for a server that is still starting (`limits.startWaitMs`). */
  get startWaitMs(): number {
    return this.#gate.waitMs;
  }

  /** Starts an idle server that a client needs (it listed a profile that includes it). */
  wake(server: string): void {
    this.#gate.wake(server);
  }

  /** Starts every shard; resolves when each has said `ready`. */
  /** `instance`: the daemon's id, which every shard (and a restarted one) is told. */
  async start(instance?: string): Promise<void> {
    this.#instance = instance;
    await Promise.all(this.#shards.map((shard) => this.#startShard(shard)));
  }

  /** Forwards one request; returns its call id (for `cancel`). */
  call(
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    target: string,
    context: CallContext,
    client: ClientDeclarations,
    handlers: CallHandlers,
  ): number {
    const callId = this.#nextCallId++;
    const index = this.#shardOf.get(server);
    const link = index === undefined ? undefined : this.#shards[index]?.link;
    // A server that is starting (or idle, or its worker restarting) is waited for; an idle
    // one takes a log level without being started (it applies it when it next starts).
    const open =
      this.#gate.open(server) ||
      (method === 'logging/setLevel' && this.#gate.state(server) === 'idle' && link !== undefined);
    if (index === undefined || (link === undefined && open) || this.#stopping) {
      handlers.reply({
        type: 'reply',
        callId,
        ok: false,
        error: this.#stopping
          ? directorError(DirectorErrorCode.ShuttingDown, 'MCP Director is shutting down')
          : index === undefined
            ? directorError(
                DirectorErrorCode.BackendUnavailable,
                `Server '${server}' is not configured`,
                { server },
              )
            : directorError(
                DirectorErrorCode.BackendUnavailable,
                `Server '${server}' is not available: its worker is restarting`,
                { server },
              ),
      });
      return callId;
    }
    const timeoutMs = this.#timeouts.get(server) ?? 0; // 0: the worker uses the server's own
    const message: CallMessage = {
      type: 'call',
      callId,
      server,
      method,
      params,
      timeoutMs,
      target,
      context,
      clientCapabilities: client.clientCapabilities ?? {},
    };
    if (client.logLevel !== undefined) message.logLevel = client.logLevel;
    const pending: Pending = { shard: index, server, handlers, message, held: false, deadline: 0 };
    this.#pending.set(callId, pending);
    if (open && link !== undefined) link.send(message);
    else this.#hold(callId, pending);
    return callId;
  }

  /** Holds a call until its server is ready, within `limits.startWaitMs` of its first hold. */
  #hold(callId: number, pending: Pending): void {
    if (pending.deadline === 0) pending.deadline = Date.now() + this.#gate.waitMs;
    pending.held = true;
    this.#gate.hold(pending.server, callId, pending.deadline);
  }

  /** The server of a held call is ready: the call goes to its worker. */
  #release(callId: number): void {
    const pending = this.#pending.get(callId);
    if (pending === undefined) return; // cancelled while it waited
    const link = this.#shards[pending.shard]?.link;
    if (link === undefined) {
      this.#hold(callId, pending); // its worker died meanwhile: wait for the new one
      return;
    }
    pending.held = false;
    link.send(pending.message);
  }

  /** Asks the worker that owns an idle server to start it. */
  #wake(server: string): void {
    const index = this.#shardOf.get(server);
    const link = index === undefined ? undefined : this.#shards[index]?.link;
    link?.send({ type: 'start-server', server });
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

  /** The client cancelled: the backend is told, and no reply will come. */
  cancel(callId: number, reason?: string): void {
    const pending = this.#pending.get(callId);
    if (pending === undefined) return;
    this.#pending.delete(callId);
    if (pending.held) {
      this.#gate.drop(pending.server, callId); // never reached the worker
      return;
    }
    const message: SupervisorMessage =
      reason === undefined ? { type: 'cancel', callId } : { type: 'cancel', callId, reason };
    this.#shards[pending.shard]?.link?.send(message);
  }

  /** Calls forwarded and not yet answered (or cancelled). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Answers every call in flight with `error` (the drain deadline passed) and cancels it
   * upstream, so each backend hears the cancellation; returns how many there were.
   */
  failInFlight(error: WireError): number {
    const calls = [...this.#pending];
    this.#pending.clear();
    for (const [callId, pending] of calls) {
      this.#shards[pending.shard]?.link?.send({ type: 'cancel', callId, reason: error.message });
      try {
        pending.handlers.reply({ type: 'reply', callId, ok: false, error });
      } catch (thrown) {
        // One client's failure must not keep the others from their answer.
        log.error(`answering call ${callId} failed: ${(thrown as Error).stack ?? String(thrown)}`);
      }
    }
    return calls.length;
  }

  /** A client session ended: every shard stops that session's own backend instances. */
  sessionEnded(session: string): void {
    for (const shard of this.#shards) shard.link?.send({ type: 'session-ended', session });
  }

  /**
   * Starts one more server (config hot reload) on the shard its id hashes to among the
   * current shards. Throws if a server of that id is configured already (a changed entry is
   * `replaceServer`). If a removal of that id is still under way, the new one is sent to
   * the worker once the old one has stopped (one id never has two processes); its calls
   * meanwhile are answered BACKEND_UNAVAILABLE by the worker.
   */
  addServer(config: ServerConfig): void {
    if (this.#stopping) return;
    if (this.#shardOf.has(config.id)) {
      throw new Error(`server '${config.id}' is already configured; use replaceServer`);
    }
    this.#gate.track(config);
    const index = shardFor(config.id, this.#shards.length);
    const shard = this.#shards[index];
    if (shard === undefined) throw new Error(`no shard ${index}`);
    this.#shardOf.set(config.id, index);
    this.#timeouts.set(config.id, config.timeoutMs);
    shard.servers = [...shard.servers, config];
    const removal = this.#removals.get(config.id);
    if (removal !== undefined) removal.successor = config;
    // No link: the shard is restarting, and its restart starts `shard.servers`.
    else shard.link?.send({ type: 'add-server', server: config });
  }

  /**
   * Stops one server for good (config hot reload): from now on its calls are answered
   * BACKEND_UNAVAILABLE "not configured", those in flight SERVER_REMOVED. Resolves once the
   * worker reported it `stopped`, or after `graceMs`, when its process groups are killed
   * and its calls answered here. Never rejects; an unknown id resolves at once.
   */
  removeServer(id: string, graceMs = REMOVE_GRACE_MS): Promise<void> {
    const index = this.#shardOf.get(id);
    const pending = this.#removals.get(id);
    if (index === undefined) return pending?.done ?? Promise.resolve();
    this.#shardOf.delete(id);
    this.#timeouts.delete(id);
    this.#gate.forget(id);
    const shard = this.#shards[index];
    if (shard !== undefined) shard.servers = shard.servers.filter((s) => s.id !== id);
    if (pending !== undefined) {
      // Added back while its removal was under way, and removed again before it started.
      pending.successor = undefined;
      pending.callIds.push(...this.#callsTo(id));
      return pending.done;
    }
    if (this.#stopping) return Promise.resolve(); // stop() takes every process down
    const link = shard?.link;
    if (link === undefined) {
      // The shard is restarting: its processes died with it and its restart will not
      // start this server; only calls can be left.
      this.#failCalls(id, this.#callsTo(id));
      this.#events.serverState({ type: 'server-state', server: id, state: 'stopped', restarts: 0 });
      return Promise.resolve();
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const timer = setTimeout(() => {
      log.warn(`server '${id}' did not stop within ${graceMs} ms of its removal; killing it`);
      this.#removalEnded(id, true);
    }, graceMs);
    timer.unref();
    const callIds = this.#callsTo(id);
    this.#removals.set(id, { shard: index, callIds, timer, done, resolve, successor: undefined });
    link.send({ type: 'remove-server', server: id });
    return done;
  }

  /** A changed server entry: the old process stops, then the new one starts. */
  async replaceServer(config: ServerConfig, graceMs = REMOVE_GRACE_MS): Promise<void> {
    await this.removeServer(config.id, graceMs);
    if (!this.#stopping && !this.#shardOf.has(config.id)) this.addServer(config);
  }

  /** Stops every backend (each shard escalates to SIGKILL itself), then the threads. */
  stop(graceMs = 10_000): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.#gate.refuseAll(
      directorError(DirectorErrorCode.ShuttingDown, 'MCP Director is shutting down'),
    );
    for (const shard of this.#shards) shard.link?.send({ type: 'stop' });
    const stopped = Promise.allSettled(this.#tasks);
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([stopped, timer]);
    // Every process the workers reported and did not report gone: servers configured at
    // start, added later, or still being removed.
    this.#killOrphans(() => true);
    for (const id of [...this.#removals.keys()]) this.#removalEnded(id, false);
    await this.#piscina.destroy();
  }

  /** The pending calls to `server`. */
  #callsTo(server: string): number[] {
    const ids: number[] = [];
    for (const [callId, pending] of this.#pending) if (pending.server === server) ids.push(callId);
    return ids;
  }

  /**
   * The removal of `id` is over: the worker said `stopped`, or did not in time or its shard
   * died (`kill`: its process groups are killed and a `stopped` is reported for it). A
   * server of that id added meanwhile is then sent to the worker.
   */
  #removalEnded(id: string, kill: boolean): void {
    const removal = this.#removals.get(id);
    if (removal === undefined) return;
    this.#removals.delete(id);
    clearTimeout(removal.timer);
    if (kill) {
      // Only the old process can run: a successor is sent to the worker after this.
      this.#killOrphans((server) => server === id);
      this.#events.serverState({ type: 'server-state', server: id, state: 'stopped', restarts: 0 });
    }
    this.#failCalls(id, removal.callIds);
    removal.resolve();
    const successor = removal.successor;
    if (successor !== undefined && !this.#stopping) {
      // No link: the shard is restarting and starts it with the rest of `shard.servers`.
      this.#shards[removal.shard]?.link?.send({ type: 'add-server', server: successor });
    }
  }

  /** A call the thread hop could not carry fails alone; anything else is logged. */
  #unsendable(message: SupervisorMessage, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (message.type !== 'call') {
      log.error(`could not send ${message.type} to a shard: ${reason}`);
      return;
    }
    const pending = this.#pending.get(message.callId);
    if (pending === undefined) return;
    this.#pending.delete(message.callId);
    pending.handlers.reply({
      type: 'reply',
      callId: message.callId,
      ok: false,
      error: rpcError(
        JsonRpcCode.InvalidParams,
        `Invalid params: the request cannot be passed to server '${message.server}' (${reason})`,
      ),
    });
  }

  /** Answers those of `callIds` still pending (the worker normally answered them all). */
  #failCalls(id: string, callIds: number[]): void {
    for (const callId of callIds) {
      const pending = this.#pending.get(callId);
      if (pending === undefined) continue;
      this.#pending.delete(callId);
      pending.handlers.reply({
        type: 'reply',
        callId,
        ok: false,
        error: directorError(
          DirectorErrorCode.ServerRemoved,
          `Server '${id}' was removed from the config`,
          { server: id },
        ),
      });
    }
  }

  #startShard(shard: Shard): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    let readyResolve!: () => void;
    const ready = new Promise<void>((resolve) => (readyResolve = resolve));
    shard.link = createLink<SupervisorMessage, WorkerMessage>(
      port1,
      (message) => {
        if (message.type === 'ready') readyResolve();
        else this.#onWorkerMessage(shard, message);
      },
      { onUnsendable: (message, error) => this.#unsendable(message, error) },
    );
    const input: ShardTaskInput = {
      protocolVersion: THREAD_PROTOCOL_VERSION,
      shard: shard.index,
      ...(this.#instance !== undefined && { instance: this.#instance }),
      port: port2,
      // A copy: piscina may clone the input later, after servers were added or removed.
      servers: [...shard.servers],
      analyticsPath: this.#config.analytics.enabled ? `${this.#config.dataDir}/analytics` : null,
      logLevel: currentLogLevel(),
      limits: this.#config.limits,
    };
    const task = this.#piscina.run(input, { transferList: [port2] as never }).then(
      () => this.#onShardEnded(shard, undefined),
      (error: unknown) => this.#onShardEnded(shard, error),
    );
    this.#tasks[shard.index] = task;
    // A shard that dies before `ready` must not hang start().
    return Promise.race([ready, task]);
  }

  #onWorkerMessage(shard: Shard, message: WorkerMessage): void {
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
        // A session's own instance has a pid to clean up but no say in the server's state.
        const key =
          message.session === undefined
            ? message.server
            : `${message.server}\u0000${message.session}`;
        if (
          message.pid !== undefined &&
          (message.state === 'ready' || message.state === 'starting')
        ) {
          this.#pids.set(key, { server: message.server, pid: message.pid });
        } else if (
          message.state === 'stopped' ||
          message.state === 'failed' ||
          message.state === 'idle'
        ) {
          this.#pids.delete(key);
        }
        if (message.session !== undefined) return;
        // A removed server's last words: its `stopped` ends the removal; anything after is
        // stale (the removal timed out), unless the id was added back.
        const removing = this.#removals.has(message.server);
        // The gate first: whoever hears of the state next may route a call by it.
        if (!removing) this.#gate.changed(message.server, message.state, message.error);
        if (removing || this.#shardOf.has(message.server)) this.#events.serverState(message);
        if (removing && message.state === 'stopped') this.#removalEnded(message.server, false);
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
      case 'ready':
      case 'stopped':
        return;
      default:
        assertNever(message);
    }
  }

  #onShardEnded(shard: Shard, error: unknown): void {
    shard.link?.close();
    shard.link = undefined;
    if (this.#stopping) return;
    // The task only returns after `stop`; anything else is a crash of the thread.
    const reason =
      error instanceof Error ? error.message : String(error ?? 'the shard task returned');
    log.error(`shard ${shard.index} died: ${reason}; failing its calls and restarting it`);
    for (const [callId, pending] of this.#pending) {
      // Held calls never reached the thread: they wait for its successor.
      if (pending.shard !== shard.index || pending.held) continue;
      this.#pending.delete(callId);
      pending.handlers.reply({
        type: 'reply',
        callId,
        ok: false,
        error: directorError(
          DirectorErrorCode.WorkerExited,
          `The worker thread owning server '${pending.server}' died while handling this call (${reason}); it is being restarted`,
          { server: pending.server },
        ),
      });
    }
    const serverIds = shard.servers.map((s) => s.id);
    this.#killOrphans((server) => serverIds.includes(server));
    for (const [id, removal] of this.#removals) {
      if (removal.shard === shard.index) this.#removalEnded(id, true);
    }
    for (const server of serverIds) {
      const error = `worker thread died: ${reason}`;
      this.#gate.changed(server, 'restarting', error);
      this.#events.serverState({
        type: 'server-state',
        server,
        state: 'restarting',
        restarts: shard.restarts,
        error,
      });
    }
    shard.restarts++;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(shard.restarts, 7));
    setTimeout(() => {
      if (!this.#stopping) void this.#startShard(shard);
    }, delay).unref();
  }

  #killOrphans(which: (server: string) => boolean): void {
    for (const [key, { server, pid }] of this.#pids) {
      if (!which(server)) continue;
      this.#pids.delete(key);
      try {
        process.kill(-pid, 'SIGKILL');
        log.warn(`killed the process group ${pid} of server '${server}' left behind by its worker`);
      } catch {
        // Already gone: the worker stopped it.
      }
    }
  }
}
