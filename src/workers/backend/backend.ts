/**
 * One backend as its shard sees it: calls in, messages out. Its JSON-RPC side (ids,
 * forwarded calls, progress, timeouts, cancellation) is `BackendPeer`, attached to each child
 * in turn; its processes, their start sequence (era probe, handshake, catalog), restarts,
 * idle stop and states are `BackendLifecycle` (docs/architecture.md#processes-and-failure).
 *
 * Calls are accepted only while `ready`; otherwise they are answered at once with
 * BACKEND_UNAVAILABLE naming the state and the last error.
 */
import { BackendPeer } from './backend-peer.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { Sink } from './wires.js';
import { BackendLifecycle } from './backend-lifecycle.js';
import { CallGate } from './call-gate.js';
import type { CallRecorder } from './call-recorder.js';
import { LIST_CHANGED } from './catalog-fetch.js';
import type { CatalogKeeper } from './catalog-keeper.js';
import type { IdleStop } from './idle-stop.js';
import { withoutSubscriptionId, type ListenStream } from './listen-stream.js';
import { RememberedState } from './remembered-state.js';
import type { ChannelHandler, ChildExit } from '../channels/stdio.js';
import type { Limits, ServerConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, JsonRpcCode, directorError } from '../../shared/errors.js';
import { isJsonObject, type JsonValue } from '../../shared/json.js';
import { valueNestsDeeperThan } from '../../shared/json-text.js';
import { logger, type Logger } from '../../shared/log.js';
import type {
  ServerAction,
  BackendState,
  CallMessage,
  ClientResponseMessage,
} from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { failedReply } from '../../shared/messages.js';

export interface BackendOptions {
  config: ServerConfig;
  limits: Limits;
  out: Sink;
  recorder: CallRecorder;
  /** Grace period of each stop step; tests shorten it. */
  stopGraceMs?: number;
  /** The daemon's instance id: a backend that reports it is the daemon itself (refused). */
  instance?: string | undefined;
  /** Stored sign-ins of remote servers. */
  credentials: CredentialStore;
  /** An identity's own instance signs in as that identity (caller-instances.ts). */
  identity?: string;
}

export class Backend implements ChannelHandler {
  readonly id: string;
  readonly #limits: Limits;
  readonly #out: Sink;
  readonly #recorder: CallRecorder;
  readonly #log: Logger;
  readonly #peer: BackendPeer;
  readonly #gate: CallGate;
  readonly #remembered: RememberedState;
  readonly #lifecycle: BackendLifecycle;
  readonly #catalog: CatalogKeeper;
  readonly #listen: ListenStream;
  readonly #idleStop: IdleStop | null;

  constructor(options: BackendOptions) {
    const { config, limits } = options;
    this.#limits = limits;
    this.id = config.id;
    this.#out = options.out;
    this.#recorder = options.recorder;
    this.#log = logger(`server:${this.id}`);
    this.#peer = new BackendPeer({
      server: this.id,
      transport: config.transport === 'stdio' ? 'pipe' : 'tcp',
      recordPayloads: config.recordPayloads === true,
      out: this.#out,
      recorder: this.#recorder,
      timeoutMs: config.timeoutMs,
      log: this.#log,
      events: {
        onNotification: (method, params) => this.#onNotification(method, params),
        onCallSucceeded: (method, params) => this.#remembered.note(method, params),
        onCallSettled: () => this.#gate.pump(),
      },
    });
    this.#remembered = new RememberedState({
      peer: this.#peer,
      log: this.#log,
      timeoutMs: config.timeoutMs,
    });
    this.#gate = new CallGate({
      server: this.id,
      limits,
      target: this.#peer,
      out: this.#out,
      recorder: this.#recorder,
    });
    this.#lifecycle = new BackendLifecycle({
      config,
      limits,
      out: this.#out,
      log: this.#log,
      stopGraceMs: options.stopGraceMs,
      instance: options.instance,
      handler: this,
      peer: this.#peer,
      gate: this.#gate,
      remembered: this.#remembered,
      credentials: options.credentials,
      identity: options.identity,
    });
    this.#catalog = this.#lifecycle.catalog;
    this.#listen = this.#lifecycle.listen;
    this.#idleStop = this.#lifecycle.idleStop;
  }

  get state(): BackendState {
    return this.#lifecycle.state;
  }

  /** Starts the process, or for a lazy server reports `idle` until something needs it. */
  start(): void {
    this.#lifecycle.start();
  }

  /** A call or a client's list needs the server: an idle one starts; others are left be. */
  wake(): void {
    this.#lifecycle.wake();
  }

  /** Stops the child (stdin close, SIGTERM, SIGKILL); resolves once it is gone. */
  stop(): Promise<void> {
    return this.#lifecycle.stop();
  }

  /** An admin's restart, stop or start of this (shared) instance (`control-server`). */
  control(action: ServerAction): void {
    if (action === 'restart') this.#lifecycle.restartNow();
    else if (action === 'start') this.#lifecycle.resume();
    else void this.#lifecycle.hold();
  }

  // ───────────────────────────── calls (hot path) ─────────────────────────────

  /** Forwards a call to the peer, queues it at the gate, or refuses it (not ready). */
  takeCall(message: CallMessage): void {
    this.admit(message)?.forward(message);
  }

  /**
   * Whether a call may go to the backend now: the peer to forward it on when the backend is
   * ready and its gate has room. Otherwise the call is dealt with here and nothing is
   * returned: answered locally, refused (not ready), or queued at the gate, which forwards
   * it when a place frees. The host forwards what is admitted itself, so the backend is
   * consulted, not passed through (docs/architecture.md#call-path).
   */
  admit(message: CallMessage): BackendPeer | undefined {
    this.#idleStop?.touch();
    const state = this.#lifecycle.state;
    if (state === 'ready' && this.#peer.era === 'modern' && this.#answerLocally(message)) {
      return undefined;
    }
    if (state !== 'ready') {
      if (state === 'idle') {
        // A level needs no process: the next start re-applies it (`RememberedState`).
        if (message.method === 'logging/setLevel') {
          this.#remembered.note(message.method, message.params);
          this.#out({ type: 'reply', callId: message.callId, ok: true, result: '{}' });
          return undefined;
        }
        // Refused as `starting`: the supervisor holds the call until the server is ready.
        this.wake();
      }
      const now = this.#lifecycle.state;
      const cause = this.#lifecycle.lastCause;
      const why = cause === undefined ? '' : `: ${cause}`;
      this.#refuse(
        message,
        directorError(
          DirectorErrorCode.BackendUnavailable,
          // A needs-auth cause says which command signs it in.
          now === 'needs-auth' && cause !== undefined
            ? cause
            : `Server '${this.id}' is not available (${now})${why}`,
          { server: this.id, state: now },
        ),
      );
      return undefined;
    }
    if (this.#gate.open) return this.#peer;
    this.#gate.wait(message, this.#peer.timeoutOf(message));
    return undefined;
  }

  /** Passes the client's answer on; false if this backend did not ask. */
  clientResponse(message: ClientResponseMessage): boolean {
    return this.#peer.clientResponse(message);
  }

  /** Cancels a call of this backend; false when the call is not (or no longer) here. */
  cancel(callId: number, reason: string | undefined): boolean {
    return this.#gate.cancel(callId) || this.#peer.cancel(callId, reason);
  }

  /**
   * Session-era requests a stateless server has no method for: subscriptions become its
   * listen filter, and the log level travels with each call instead.
   */
  #answerLocally(message: CallMessage): boolean {
    const uri = message.params['uri'];
    const subscriptions = this.#remembered.subscriptions;
    switch (message.method) {
      case 'resources/subscribe':
        if (typeof uri === 'string') subscriptions.add(uri);
        this.#listen.open();
        break;
      case 'resources/unsubscribe':
        if (typeof uri === 'string') subscriptions.delete(uri);
        this.#listen.open();
        break;
      case 'logging/setLevel':
        break;
      default:
        return false;
    }
    this.#out({ type: 'reply', callId: message.callId, ok: true, result: '{}' });
    return true;
  }

  #refuse(message: CallMessage, error: WireError): void {
    this.#out(failedReply(message.callId, error));
    this.#recorder.refused(message, error);
  }

  // ───────────────────────────── messages from the backend ─────────────────────────────

  onChannelMessage(message: unknown, relatedId?: number, deeperThanLimit?: boolean): void {
    const maxDepth = this.#limits.maxJsonDepth;
    if (!(deeperThanLimit ?? valueNestsDeeperThan(message, maxDepth)))
      return this.#peer.receive(message, relatedId);
    // Deeper than the thread hop and the re-serialization can carry (README "Limits and
    // safety"): an answer becomes an error for its call, anything else is dropped.
    const problem = `server '${this.id}' sent JSON nested deeper than ${maxDepth} levels ("limits.maxJsonDepth")`;
    const answer = isJsonObject(message) && message['method'] === undefined ? message : undefined;
    const id = answer?.['id'];
    if (typeof id !== 'number' && typeof id !== 'string') {
      this.#log.warn(`${problem}: the message was dropped`);
      return;
    }
    this.#log.warn(`${problem}: its answer to request ${JSON.stringify(id)} became an error`);
    const error = { code: JsonRpcCode.InternalError, message: problem };
    this.#peer.receive({ jsonrpc: '2.0', id, error }, relatedId);
  }

  /** Notifications other than progress (which the peer maps to its call). */
  #onNotification(method: string, params: JsonValue | undefined): void {
    const kinds = LIST_CHANGED.get(method);
    if (kinds !== undefined) {
      this.#catalog.markChanged(kinds);
      if (this.#lifecycle.state === 'ready') this.#catalog.scheduleRefresh();
      return;
    }
    if (
      method === 'notifications/cancelled' ||
      method === 'notifications/subscriptions/acknowledged'
    ) {
      // A withdrawn request of the server's own (we answer those at once), or our listen
      // stream opening: nothing to do.
      return;
    }
    const payload = isJsonObject(params) ? withoutSubscriptionId(params) : {};
    this.#out({ type: 'server-notification', server: this.id, method, params: payload });
  }

  /** A remote server gave us a new session: tell it again what the old one knew. */
  onChannelRenewed(): void {
    void this.#remembered.reapply();
  }

  onChannelExit(exit: ChildExit): void {
    this.#lifecycle.exited(exit);
  }
}
