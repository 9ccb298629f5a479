/**
 * One stdio backend's lifecycle (docs/architecture.md#processes-and-failure); its JSON-RPC side
 * (ids, forwarded calls, progress, timeouts, cancellation) is `BackendPeer`, attached to each
 * child in turn.
 *
 * States (every change, and every new pid, is sent as `server-state`):
 *   starting ─▶ ready ─exit─▶ restarting ─▶ ready …
 *      │                          │ 5 failures in a row
 *      └─ first start fails ─▶ failed ◀┘   (retries continue with capped backoff) ─▶ ready
 *   any ─stop─▶ stopped
 *   idle ─wake (a call, a list)─▶ starting;  ready ─idleStopMs unused─▶ idle
 * A lazy server (`"start": "lazy"`) begins `idle`. An idle server has no process; the
 * catalog it sent while it ran stays listed (the supervisor keeps it), so a call to one of
 * its tools starts it again.
 * A start is: spawn, find the server's era, list everything it declared (all pages), send
 * `catalog`, then `ready`. The era (docs/architecture.md#backend-era): a `server/discover`
 * probe first (each stdio process, and each HTTP server until a verdict is cached); a
 * DiscoverResult means the stateless era, anything else the legacy handshake (`initialize`,
 * `notifications/initialized`, re-applying the previous run's logging level and resource
 * subscriptions). A stateless server's list changes and resource updates come on one
 * `subscriptions/listen` stream the backend keeps open; a lost HTTP verdict is re-probed.
 *
 * Calls are accepted only while `ready`; otherwise they are answered at once with
 * BACKEND_UNAVAILABLE naming the state and the last error.
 */
import { BackendPeer, RequestFailed, type InFlight, type Sink } from './backend-peer.js';
import { CallGate } from './call-gate.js';
import { ModernHttpChannel } from '../channels/stateless-http.js';
import type { CallRecorder } from './call-recorder.js';
import { LIST_CHANGED, LIST_KINDS } from './catalog-fetch.js';
import { CatalogKeeper } from './catalog-keeper.js';
import { Handshake, IsThisDaemon } from './handshake.js';
import { ListenStream, withoutSubscriptionId } from './listen-stream.js';
import { RememberedState } from './remembered-state.js';
import { exitCause, exitSummary, withStderr } from './exit-reason.js';
import { isCrashLoop, nextFailureCount, restartDelayMs } from './restart-policy.js';
import { HttpChannel } from '../channels/streamable-http.js';
import { IdleStop } from './idle-stop.js';
import { StdioChannel, type ChannelHandler, type ChildExit } from '../channels/stdio.js';
import type { Limits, ServerConfig } from '../../shared/config/types.js';
import type { Era } from '../../shared/eras.js';
import { DirectorErrorCode, JsonRpcCode, directorError } from '../../shared/errors.js';
import { isJsonObject, type JsonValue } from '../../shared/json.js';
import { valueNestsDeeperThan } from '../../shared/json-text.js';
import { logger, type Logger } from '../../shared/log.js';
import type {
  BackendState,
  CallMessage,
  ClientResponseMessage,
  ServerStateMessage,
  WireError,
} from '../../shared/messages.js';

export type { Sink } from './backend-peer.js';

export interface BackendOptions {
  config: ServerConfig;
  limits: Limits;
  out: Sink;
  recorder: CallRecorder;
  /** Grace period of each stop step; tests shorten it. */
  stopGraceMs?: number;
  /** The daemon's instance id: a backend that reports it is the daemon itself (refused). */
  instance?: string | undefined;
}

type Channel = StdioChannel | HttpChannel | ModernHttpChannel;

export class Backend implements ChannelHandler {
  readonly id: string;
  readonly #config: ServerConfig;
  readonly #limits: Limits;
  readonly #out: Sink;
  readonly #recorder: CallRecorder;
  readonly #stopGraceMs: number | undefined;
  /** Set when the backend turned out to be this daemon: failed for good, never restarted. */
  #refusal: string | null = null;
  readonly #log: Logger;
  #state: BackendState = 'starting';
  #channel: Channel | null = null;
  /** A remote server's era, cached until the connection fails (stdio: probed per process). */
  #httpEra: Era | undefined;
  #live = false;
  /** Bumped per spawn; async work of an older spawn checks it and stands down. */
  #generation = 0;
  readonly #peer: BackendPeer;
  readonly #gate: CallGate;
  readonly #handshake: Handshake;
  readonly #catalog: CatalogKeeper;
  readonly #remembered: RememberedState;
  /** Stateless servers only: where their list changes and resource updates come. */
  readonly #listen: ListenStream;
  #restarts = 0;
  #failures = 0;
  #everReady = false;
  #readyAt: number | null = null;
  /** One line: why the backend is not running (for call errors). */
  #lastCause: string | undefined;
  /** The cause plus the last stderr lines (for server-state and logs). */
  #lastError: string | undefined;
  /** Why the current start was abandoned, when the worker (not the child) ended it. */
  #startFailure: string | null = null;
  #restartTimer: NodeJS.Timeout | null = null;
  #stopRequested = false;
  #stopping: Promise<void> | null = null;
  /** Null when the server has no `idleStopMs`. */
  readonly #idleStop: IdleStop | null;
  /** Stopping because it was unused; its exit leads to `idle`, not to a restart. */
  #idling = false;
  /** A call came while the idle stop was under way: start again once the process is gone. */
  #wakeAfterIdle = false;

  constructor(options: BackendOptions) {
    this.#config = options.config;
    this.#limits = options.limits;
    this.id = options.config.id;
    this.#out = options.out;
    this.#recorder = options.recorder;
    this.#stopGraceMs = options.stopGraceMs;
    const log = (this.#log = logger(`server:${this.id}`));
    const peer = (this.#peer = new BackendPeer({
      server: this.id,
      out: this.#out,
      recorder: this.#recorder,
      log,
      events: {
        onNotification: (method, params) => this.#onNotification(method, params),
        onCallSucceeded: (method, params) => this.#remembered.note(method, params),
        onCallSettled: () => this.#gate.pump(),
      },
    }));
    const { initializeTimeoutMs, timeoutMs } = options.config;
    const { instance } = options;
    this.#handshake = new Handshake({ server: this.id, peer, initializeTimeoutMs, instance });
    this.#remembered = new RememberedState({ peer, log, timeoutMs });
    const ready = (): boolean => this.#state === 'ready';
    const generation = (): number => this.#generation;
    this.#catalog = new CatalogKeeper({
      server: this.id,
      peer,
      out: this.#out,
      log,
      timeoutMs,
      ready,
      generation,
      live: () => this.#live,
      statelessHttp: () => this.#channel instanceof ModernHttpChannel,
    });
    this.#listen = new ListenStream({
      peer,
      log,
      subscriptions: this.#remembered.subscriptions,
      capabilities: () => this.#catalog.catalog.capabilities,
      ready,
      generation,
      onReopened: () => {
        this.#catalog.markChanged(LIST_KINDS);
        this.#catalog.scheduleRefresh();
      },
    });
    this.#idleStop =
      options.config.idleStopMs > 0
        ? new IdleStop({
            idleMs: options.config.idleStopMs,
            busy: () => this.#peer.callsInFlight > 0 || this.#remembered.subscriptions.size > 0,
            stop: () => this.#stopIdle(),
          })
        : null;
    this.#gate = new CallGate({
      server: this.id,
      limits: options.limits,
      target: this.#peer,
      out: this.#out,
      recorder: this.#recorder,
    });
  }

  get state(): BackendState {
    return this.#state;
  }

  /** Starts the process, or for a lazy server reports `idle` until something needs it. */
  start(): void {
    if (this.#config.start === 'lazy') this.#setState('idle');
    else this.#spawn();
  }

  /** A call or a client's list needs the server: an idle one starts; others are left be. */
  wake(): void {
    if (this.#state !== 'idle' || this.#stopRequested) return;
    if (this.#idling) {
      this.#wakeAfterIdle = true;
      return;
    }
    this.#log.info('starting: it is needed');
    this.#state = 'starting';
    this.#spawn();
  }

  // ───────────────────────────── calls (hot path) ─────────────────────────────

  call(message: CallMessage): void {
    this.#idleStop?.touch();
    if (this.#state === 'ready' && this.#peer.era === 'modern' && this.#answerLocally(message)) {
      return;
    }
    if (this.#state !== 'ready') {
      if (this.#state === 'idle') {
        // A level needs no process: the next start re-applies it (`#reapply`).
        if (message.method === 'logging/setLevel') {
          this.#remembered.note(message.method, message.params);
          this.#out({ type: 'reply', callId: message.callId, ok: true, result: '{}' });
          return;
        }
        // Refused as `starting`: the supervisor holds the call until the server is ready.
        this.wake();
      }
      const why = this.#lastCause === undefined ? '' : `: ${this.#lastCause}`;
      this.#refuse(
        message,
        directorError(
          DirectorErrorCode.BackendUnavailable,
          `Server '${this.id}' is not available (${this.#state})${why}`,
          { server: this.id, state: this.#state },
        ),
      );
      return;
    }
    this.#gate.admit(message, message.timeoutMs > 0 ? message.timeoutMs : this.#config.timeoutMs);
  }

  /** Cancels a call of this backend; false when the call is not (or no longer) here. */
  /** Passes the client's answer on; false if this backend did not ask. */
  clientResponse(message: ClientResponseMessage): boolean {
    return this.#peer.clientResponse(message);
  }

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
    this.#out({ type: 'reply', callId: message.callId, ok: false, error });
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
      if (this.#state === 'ready') this.#catalog.scheduleRefresh();
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

  // ───────────────────────────── lifecycle ─────────────────────────────

  #spawn(): void {
    this.#restartTimer = null;
    const generation = ++this.#generation;
    const config = this.#config;
    const channel =
      config.transport === 'http'
        ? this.#httpChannel()
        : new StdioChannel(
            {
              id: this.id,
              command: config.command,
              args: config.args,
              env: config.env,
              cwd: config.cwd,
              maxMessageBytes: this.#limits.maxBackendMessageBytes,
              maxStderrBytes: this.#limits.maxStderrBytes,
              maxJsonDepth: this.#limits.maxJsonDepth,
              ...(this.#stopGraceMs === undefined ? {} : { stopGraceMs: this.#stopGraceMs }),
            },
            this,
          );
    this.#startFailure = null;
    this.#catalog.forgetChanges(); // this start lists everything anyway
    this.#live = true;
    this.#use(channel);
    this.#announce();
    void this.#initialize(channel, generation);
  }

  /** A remote server: stateless-era HTTP unless it is known (or configured) to be legacy. */
  #httpChannel(): HttpChannel | ModernHttpChannel {
    const config = this.#config;
    if (config.transport !== 'http') throw new Error('not a remote server');
    if (this.#httpEra === 'legacy' || config.httpTransport === 'sse') {
      return new HttpChannel(
        {
          id: this.id,
          url: config.url,
          headers: config.headers,
          httpTransport: config.httpTransport,
          maxMessageBytes: this.#limits.maxBackendMessageBytes,
        },
        this,
      );
    }
    return new ModernHttpChannel(
      {
        id: this.id,
        url: config.url,
        headers: config.headers,
        paramHeaders: (tool) => this.#catalog.paramHeaders.get(tool),
        maxMessageBytes: this.#limits.maxBackendMessageBytes,
      },
      this,
    );
  }

  #use(channel: Channel): void {
    this.#channel = channel;
    this.#peer.era = 'legacy';
    this.#peer.attach(channel);
    channel.start();
  }

  async #initialize(started: Channel, generation: number): Promise<void> {
    let channel = started;
    const current = (): boolean =>
      generation === this.#generation && this.#live && !this.#stopRequested;
    try {
      let catalog = channel instanceof HttpChannel ? null : await this.#handshake.discover();
      if (!current()) return;
      if (catalog === null && channel instanceof ModernHttpChannel) {
        // A legacy server behind the URL: the session transports take over.
        this.#log.info('the server does not speak 2026-07-28; using the session-era transport');
        this.#httpEra = 'legacy';
        channel = this.#httpChannel();
        this.#use(channel);
      } else if (channel instanceof ModernHttpChannel) {
        this.#httpEra = 'modern';
      }
      if (catalog === null) {
        catalog = await this.#handshake.initialize();
        if (!current()) return;
        await this.#remembered.reapply();
      }
      if (!(await this.#catalog.load(catalog, current))) return;
      this.#everReady = true;
      this.#readyAt = Date.now();
      this.#lastCause = undefined;
      this.#lastError = undefined;
      this.#setState('ready');
      this.#log.info(
        `ready (${catalog.era === 'modern' ? catalog.protocolVersion : `legacy ${catalog.protocolVersion}`}, pid ${channel.pid ?? '-'}, ${catalog.tools.length} tools)`,
      );
      if (catalog.era === 'modern') this.#listen.open();
      this.#catalog.refreshIfChanged();
      this.#idleStop?.arm();
    } catch (error) {
      if (!current()) return;
      // An exit is reported by onChannelExit; anything else means the child is up but
      // useless (init refused or hung), so stop it and let the exit path restart it.
      if (error instanceof RequestFailed && error.kind === 'exited') return;
      this.#startFailure = `failed to start: ${(error as Error).message}`;
      // Said now: the state changes only once the process is gone, which can take a while. A
      // refusal to aggregate itself is said once, when the state becomes final.
      if (error instanceof IsThisDaemon) this.#refusal = error.message;
      else this.#log.warn(`${this.#startFailure}; stopping it`);
      void channel.stop();
    }
  }

  /** A remote server gave us a new session: tell it again what the old one knew. */
  onChannelRenewed(): void {
    void this.#remembered.reapply();
  }

  onChannelExit(exit: ChildExit): void {
    const channel = this.#channel;
    this.#live = false;
    this.#idleStop?.disarm();
    this.#httpEra = undefined; // a remote server is probed again at the next start
    this.#listen.close();
    this.#failInFlight(exit);
    this.#catalog.cancelRefresh();
    if (this.#stopRequested) {
      this.#setState('stopped');
      return;
    }
    if (this.#refusal !== null) {
      // Restarting would find itself again: failed until the config changes.
      this.#lastCause = this.#lastError = this.#refusal;
      this.#log.error(this.#refusal);
      this.#setState('failed');
      return;
    }
    if (this.#idling) {
      this.#idling = false;
      if (!this.#wakeAfterIdle) return this.#setState('idle');
      this.#wakeAfterIdle = false;
      this.#state = 'starting';
      this.#spawn();
      return;
    }
    const cause = this.#startFailure ?? exitCause(exit, this.#config);
    const reason = withStderr(cause, channel?.stderrTail ?? []);
    const readyFor =
      this.#state === 'ready' && this.#readyAt !== null ? Date.now() - this.#readyAt : null;
    this.#failures = nextFailureCount(this.#failures, readyFor);
    this.#readyAt = null;
    const delay = restartDelayMs(this.#failures);
    this.#lastCause = cause;
    this.#lastError = reason;
    const next = isCrashLoop(this.#failures, this.#everReady) ? 'failed' : 'restarting';
    // Retries of a failed backend go on for as long as the daemon runs; say so once.
    const log =
      next === 'restarting'
        ? this.#log.warn
        : this.#state === 'failed'
          ? this.#log.debug
          : this.#log.error;
    log(`${next}, next start in ${delay} ms: ${reason}`);
    this.#setState(next);
    this.#restartTimer = setTimeout(Backend.#onRestartDue, delay, this);
  }

  /** Unused for `idleStopMs`: the process stops, the catalog stays, a call starts it again. */
  #stopIdle(): void {
    if (this.#state !== 'ready' || !this.#live || this.#channel === null) return;
    this.#log.info(
      `stopping: no call for ${this.#config.idleStopMs} ms ("idleStopMs"); its tools stay listed and the next call starts it again`,
    );
    this.#idling = true;
    this.#state = 'idle'; // announced once the process is gone; calls meanwhile wake it
    void this.#channel.stop();
  }

  static #onRestartDue(backend: Backend): void {
    if (backend.#stopRequested) return;
    backend.#restarts++;
    backend.#spawn();
  }

  #failInFlight(exit: ChildExit): void {
    const summary = exitSummary(exit);
    const errorFor = ({ method, target }: InFlight): WireError =>
      exit.limitExceeded !== undefined
        ? directorError(
            DirectorErrorCode.BackendExited,
            `${exit.limitExceeded} while handling ${method} '${target}'; it was killed and is being restarted`,
            { server: this.id },
          )
        : this.#stopRequested
          ? directorError(
              DirectorErrorCode.ShuttingDown,
              `Server '${this.id}' was stopped while handling ${method} '${target}'`,
              { server: this.id },
            )
          : directorError(
              DirectorErrorCode.BackendExited,
              `Server '${this.id}' exited (${summary}) while handling ${method} '${target}'; it is being restarted`,
              { server: this.id },
            );
    this.#peer.detach(errorFor, `server exited (${summary})`);
    // Queued calls never reached it; the restart takes a while and they have deadlines.
    this.#gate.refuseAll(
      this.#stopRequested
        ? directorError(DirectorErrorCode.ShuttingDown, `Server '${this.id}' was stopped`, {
            server: this.id,
          })
        : directorError(
            DirectorErrorCode.BackendUnavailable,
            `Server '${this.id}' exited (${summary}) before this queued call could be sent; it is being restarted`,
            { server: this.id },
          ),
    );
  }

  /** Stops the child (stdin close, SIGTERM, SIGKILL); resolves once it is gone. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#stopRequested = true;
    this.#idleStop?.disarm();
    if (this.#restartTimer !== null) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#catalog.cancelRefresh();
    this.#listen.cancelReopen();
    if (this.#live && this.#channel !== null) {
      await this.#channel.stop(); // its exit sets 'stopped'
    } else {
      this.#setState('stopped');
    }
  }

  #setState(state: BackendState): void {
    this.#state = state;
    this.#announce();
  }

  /** Sends the current state; `pid` only while the process lives (a stale pid could be reused). */
  #announce(): void {
    const message: ServerStateMessage = {
      type: 'server-state',
      server: this.id,
      state: this.#state,
      restarts: this.#restarts,
    };
    const pid = this.#live ? this.#channel?.pid : undefined;
    if (pid !== undefined) message.pid = pid;
    if (this.#lastError !== undefined && this.#state !== 'ready' && this.#state !== 'stopped') {
      message.error = this.#lastError;
    }
    this.#out(message);
  }
}
