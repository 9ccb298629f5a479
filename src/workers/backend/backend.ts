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
import { paramHeadersOf, type ParamHeader } from '../../shared/header-values.js';
import type { CallRecorder } from './call-recorder.js';
import {
  LIST_CHANGED,
  LIST_KINDS,
  declares,
  emptyCatalog,
  listAll,
  type ListKind,
  type ListOutcome,
} from './catalog-fetch.js';
import {
  BACKEND_CLIENT_CAPABILITIES,
  BACKEND_PROTOCOL_VERSION,
  CLIENT_INFO,
} from './client-info.js';
import { exitCause, exitSummary, withStderr } from './exit-reason.js';
import { isCrashLoop, nextFailureCount, restartDelayMs } from './restart-policy.js';
import { HttpChannel } from '../channels/streamable-http.js';
import { IdleStop } from './idle-stop.js';
import { StdioChannel, type ChannelHandler, type ChildExit } from '../channels/stdio.js';
import type { Limits, ServerConfig } from '../../shared/config/types.js';
import { META, MODERN_PROTOCOL_VERSION, ModernErrorCode, type Era } from '../../shared/eras.js';
import { DirectorErrorCode, JsonRpcCode, directorError } from '../../shared/errors.js';
import { isJsonObject, omit, type JsonObject, type JsonValue } from '../../shared/json.js';
import { valueNestsDeeperThan } from '../../shared/json-text.js';
import { logger, type Logger } from '../../shared/log.js';
import { isInstance } from '../../shared/instance.js';
import type {
  BackendCatalog,
  BackendState,
  CallMessage,
  ClientResponseMessage,
  ForwardedMethod,
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

/** Coalesces bursts of list_changed into one re-list (and one catalog message). */
const LIST_CHANGED_DEBOUNCE_MS = 20;
/**
 * How long a stdio server gets to answer the `server/discover` probe before it is taken for
 * a legacy one that ignores unknown requests ("Backward Compatibility" of
 * https://modelcontextprotocol.io/specification/draft/basic/transports/stdio); never more than
 * the server's `initializeTimeoutMs`, which bounds each step of a start.
 */
const PROBE_TIMEOUT_MS = 5_000;
/** A stateless server's listen stream that ended is opened again after this long. */
const RELISTEN_DELAY_MS = 1_000;

type Channel = StdioChannel | HttpChannel | ModernHttpChannel;

export class Backend implements ChannelHandler {
  readonly id: string;
  readonly #config: ServerConfig;
  readonly #limits: Limits;
  readonly #out: Sink;
  readonly #recorder: CallRecorder;
  readonly #stopGraceMs: number | undefined;
  readonly #instance: string | undefined;
  /** Set when the backend turned out to be this daemon: failed for good, never restarted. */
  #refusal: string | null = null;
  readonly #log: Logger;
  #state: BackendState = 'starting';
  #channel: Channel | null = null;
  /** A remote server's era, cached until the connection fails (stdio: probed per process). */
  #httpEra: Era | undefined;
  /** The id of our open `subscriptions/listen` request to a stateless server. */
  #listenId: number | null = null;
  #relistenTimer: NodeJS.Timeout | null = null;
  /** Tools' `x-mcp-header` parameters (stateless HTTP backends only). */
  #paramHeaders = new Map<string, ParamHeader[]>();
  #live = false;
  /** Bumped per spawn; async work of an older spawn checks it and stands down. */
  #generation = 0;
  readonly #peer: BackendPeer;
  readonly #gate: CallGate;
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
  #catalog: BackendCatalog = emptyCatalog();
  readonly #subscriptions = new Set<string>();
  #logLevel: string | null = null;
  readonly #dirty = new Set<ListKind>();
  #refreshTimer: NodeJS.Timeout | null = null;
  #refreshing = false;
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
    this.#instance = options.instance;
    this.#log = logger(`server:${this.id}`);
    this.#peer = new BackendPeer({
      server: this.id,
      out: this.#out,
      recorder: this.#recorder,
      log: this.#log,
      events: {
        onNotification: (method, params) => this.#onNotification(method, params),
        onCallSucceeded: (method, params) => this.#noteSuccess(method, params),
        onCallSettled: () => this.#gate.pump(),
      },
    });
    this.#idleStop =
      options.config.idleStopMs > 0
        ? new IdleStop({
            idleMs: options.config.idleStopMs,
            busy: () => this.#peer.callsInFlight > 0 || this.#subscriptions.size > 0,
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
          this.#noteSuccess(message.method, message.params);
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
    switch (message.method) {
      case 'resources/subscribe':
        if (typeof uri === 'string') this.#subscriptions.add(uri);
        this.#listen();
        break;
      case 'resources/unsubscribe':
        if (typeof uri === 'string') this.#subscriptions.delete(uri);
        this.#listen();
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

  /** Remembers what a restart must re-apply: subscriptions and the logging level. */
  #noteSuccess(method: ForwardedMethod, params: JsonObject): void {
    const { uri, level } = params;
    switch (method) {
      case 'resources/subscribe':
        if (typeof uri === 'string') this.#subscriptions.add(uri);
        return;
      case 'resources/unsubscribe':
        if (typeof uri === 'string') this.#subscriptions.delete(uri);
        return;
      case 'logging/setLevel':
        if (typeof level === 'string') this.#logLevel = level;
        return;
      default:
        return;
    }
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
      for (const kind of kinds) this.#dirty.add(kind);
      if (this.#state === 'ready') this.#scheduleRefresh();
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
    this.#dirty.clear(); // this start lists everything anyway
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
        paramHeaders: (tool) => this.#paramHeaders.get(tool),
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
      let catalog = channel instanceof HttpChannel ? null : await this.#discover();
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
        catalog = await this.#handshake();
        if (!current()) return;
        await this.#reapply();
      }
      const kinds = LIST_KINDS.filter((kind) => declares(catalog.capabilities, kind));
      const lists = await Promise.all(kinds.map((kind) => this.#list(kind)));
      if (!current()) return;
      this.#fill(catalog, kinds, lists);
      this.#catalog = catalog;
      this.#out({ type: 'catalog', server: this.id, catalog, signalled: [] });
      this.#everReady = true;
      this.#readyAt = Date.now();
      this.#lastCause = undefined;
      this.#lastError = undefined;
      this.#setState('ready');
      this.#log.info(
        `ready (${catalog.era === 'modern' ? catalog.protocolVersion : `legacy ${catalog.protocolVersion}`}, pid ${channel.pid ?? '-'}, ${catalog.tools.length} tools)`,
      );
      if (catalog.era === 'modern') this.#listen();
      if (this.#dirty.size > 0) this.#scheduleRefresh();
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

  /**
   * The era probe: `server/discover` in the stateless envelope. A DiscoverResult (or a
   * modern error naming versions) means the stateless era; any other answer, or none in
   * time, means a legacy server (null), which then gets `initialize`.
   */
  async #discover(): Promise<BackendCatalog | null> {
    this.#peer.era = 'modern';
    let result: JsonObject;
    try {
      const probeMs = Math.min(PROBE_TIMEOUT_MS, this.#config.initializeTimeoutMs);
      result = await this.#peer.request('server/discover', {}, probeMs);
    } catch (error) {
      if (error instanceof RequestFailed && error.kind === 'exited') throw error;
      if (
        error instanceof RequestFailed &&
        error.code === ModernErrorCode.UnsupportedProtocolVersion
      ) {
        throw new Error(`the server does not support ${MODERN_PROTOCOL_VERSION}: ${error.message}`);
      }
      this.#peer.era = 'legacy';
      return null;
    }
    this.#refuseIfSelf(result);
    const versions = result['supportedVersions'];
    if (!Array.isArray(versions) || !versions.includes(MODERN_PROTOCOL_VERSION)) {
      throw new Error(
        `server/discover lists versions ${JSON.stringify(versions)}, not ${MODERN_PROTOCOL_VERSION}`,
      );
    }
    const catalog = emptyCatalog();
    catalog.era = 'modern';
    catalog.protocolVersion = MODERN_PROTOCOL_VERSION;
    const meta = result['_meta'];
    const serverInfo = isJsonObject(meta) ? meta[META.serverInfo] : result['serverInfo'];
    if (isJsonObject(serverInfo)) catalog.serverInfo = serverInfo;
    if (isJsonObject(result['capabilities'])) catalog.capabilities = result['capabilities'];
    if (typeof result['instructions'] === 'string') catalog.instructions = result['instructions'];
    return catalog;
  }

  /**
   * A config entry that reaches this very daemon (its URL, or `mcp-director connect` to it)
   * would list its own catalog into itself, and call itself, without end.
   */
  #refuseIfSelf(result: JsonObject): void {
    if (this.#instance === undefined || !isInstance(result, this.#instance)) return;
    throw new IsThisDaemon(
      `server '${this.id}' is this MCP Director itself (instance ${this.#instance}); it cannot aggregate itself. Remove it from the config (or point it at another daemon)`,
    );
  }

  /**
   * The legacy handshake: `initialize`, then `notifications/initialized`. The server has its
   * `initializeTimeoutMs` to answer (`npx -y pkg` may download the package first).
   */
  async #handshake(): Promise<BackendCatalog> {
    const timeoutMs = this.#config.initializeTimeoutMs;
    const init = await this.#peer
      .request(
        'initialize',
        {
          protocolVersion: BACKEND_PROTOCOL_VERSION,
          capabilities: BACKEND_CLIENT_CAPABILITIES,
          clientInfo: CLIENT_INFO,
        },
        timeoutMs,
      )
      .catch((error: unknown) => {
        if (!(error instanceof RequestFailed) || error.kind !== 'timeout') throw error;
        throw new RequestFailed(
          `initialize got no answer within ${timeoutMs} ms (the server's "initializeTimeoutMs")`,
          'timeout',
        );
      });
    this.#refuseIfSelf(init);
    this.#peer.notify('notifications/initialized');
    const catalog = emptyCatalog();
    if (typeof init.protocolVersion === 'string') catalog.protocolVersion = init.protocolVersion;
    if (isJsonObject(init.serverInfo)) catalog.serverInfo = init.serverInfo;
    if (isJsonObject(init.capabilities)) catalog.capabilities = init.capabilities;
    if (typeof init.instructions === 'string') catalog.instructions = init.instructions;
    return catalog;
  }

  /**
   * (Re)opens the one `subscriptions/listen` stream of a stateless server, asking for every
   * list change it declares and updates of the URIs clients subscribed to; the previous
   * stream (a different filter) is cancelled. A stream that ends is opened again.
   */
  #listen(): void {
    if (this.#relistenTimer !== null) clearTimeout(this.#relistenTimer);
    this.#relistenTimer = null;
    const previous = this.#listenId;
    this.#listenId = null;
    if (previous !== null) this.#peer.abandon(previous, 'subscriptions changed');
    const filter = listenFilter(this.#catalog.capabilities, this.#subscriptions);
    if (filter === undefined || this.#state !== 'ready') return;
    const generation = this.#generation;
    let id: number | null = null;
    this.#peer
      .request('subscriptions/listen', { notifications: filter }, 0, (sent) => {
        id = sent;
        this.#listenId = sent;
      })
      .then(
        () => this.#log.debug('the server closed its listen stream'),
        (error: unknown) => this.#log.debug(`listen stream ended: ${String(error)}`),
      )
      .finally(() => {
        // Replaced, stopped or restarted meanwhile: whoever did that owns the next stream.
        if (id !== this.#listenId || generation !== this.#generation || this.#state !== 'ready')
          return;
        this.#listenId = null;
        this.#relistenTimer = setTimeout(() => {
          this.#listen();
          // Changes while nobody listened (a remote server that restarted) are not lost.
          for (const kind of LIST_KINDS) this.#dirty.add(kind);
          this.#scheduleRefresh();
        }, RELISTEN_DELAY_MS);
      });
  }

  /** Puts freshly read lists (and their caching hints) into a catalog being built. */
  #fill(catalog: BackendCatalog, kinds: ListKind[], lists: ListOutcome[]): void {
    kinds.forEach((kind, i) => {
      const list = lists[i];
      catalog[kind] = list?.items ?? [];
      if (list?.hint !== undefined) catalog.cacheHints[kind] = list.hint;
    });
    if (kinds.includes('tools') && this.#channel instanceof ModernHttpChannel) {
      catalog.tools = this.#headerChecked(catalog.tools);
    }
  }

  /**
   * A stateless HTTP server's tools with their `x-mcp-header` parameters noted; a tool whose
   * annotations are invalid is left out (the spec's MUST for HTTP clients), with a warning.
   */
  #headerChecked(tools: JsonObject[]): JsonObject[] {
    const headers = new Map<string, ParamHeader[]>();
    const valid = tools.filter((tool) => {
      const checked = paramHeadersOf(tool['inputSchema']);
      const name = String(tool['name']);
      if (!checked.ok) {
        this.#log.warn(`tool '${name}' is left out: invalid x-mcp-header (${checked.reason})`);
        return false;
      }
      if (checked.headers.length > 0) headers.set(name, checked.headers);
      return true;
    });
    this.#paramHeaders = headers;
    return valid;
  }

  /** A remote server gave us a new session: tell it again what the old one knew. */
  onChannelRenewed(): void {
    void this.#reapply();
  }

  /** Re-applies what the previous process had been told: logging level, subscriptions. */
  async #reapply(): Promise<void> {
    const requests: Promise<unknown>[] = [];
    if (this.#logLevel !== null) {
      requests.push(
        this.#peer.request('logging/setLevel', { level: this.#logLevel }, this.#config.timeoutMs),
      );
    }
    for (const uri of this.#subscriptions) {
      requests.push(this.#peer.request('resources/subscribe', { uri }, this.#config.timeoutMs));
    }
    for (const outcome of await Promise.allSettled(requests)) {
      if (outcome.status === 'rejected') {
        this.#log.warn(`could not re-apply state after restart: ${String(outcome.reason)}`);
      }
    }
  }

  #list(kind: ListKind): Promise<ListOutcome> {
    return listAll(
      (method, params) => this.#peer.request(method, params, this.#config.timeoutMs),
      kind,
      (problem) => this.#log.warn(problem.message),
    ).catch((error: unknown) => {
      // A list the server declared but cannot serve is reported and left empty; an exit
      // or timeout fails the whole start.
      if (error instanceof RequestFailed && error.kind === 'error') {
        this.#log.warn(`${error.message}; its ${kind} are left out of the catalog`);
        return { items: [] };
      }
      throw error;
    });
  }

  onChannelExit(exit: ChildExit): void {
    const channel = this.#channel;
    this.#live = false;
    this.#idleStop?.disarm();
    this.#httpEra = undefined; // a remote server is probed again at the next start
    this.#listenId = null;
    if (this.#relistenTimer !== null) clearTimeout(this.#relistenTimer);
    this.#relistenTimer = null;
    this.#failInFlight(exit);
    if (this.#refreshTimer !== null) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
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
    if (this.#refreshTimer !== null) clearTimeout(this.#refreshTimer);
    if (this.#relistenTimer !== null) clearTimeout(this.#relistenTimer);
    this.#restartTimer = null;
    this.#refreshTimer = null;
    this.#relistenTimer = null;
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

  // ───────────────────────────── catalog refresh ─────────────────────────────

  #scheduleRefresh(): void {
    if (this.#refreshTimer !== null || this.#refreshing) return;
    this.#refreshTimer = setTimeout(Backend.#onRefreshDue, LIST_CHANGED_DEBOUNCE_MS, this);
  }

  static #onRefreshDue(backend: Backend): void {
    backend.#refreshTimer = null;
    void backend.#refresh();
  }

  /** Re-reads the lists that changed (all pages) and sends a new full catalog. */
  async #refresh(): Promise<void> {
    if (this.#state !== 'ready') return; // the next start lists everything anyway
    const kinds = [...this.#dirty].filter((kind) => declares(this.#catalog.capabilities, kind));
    this.#dirty.clear();
    if (kinds.length === 0) return;
    const generation = this.#generation;
    this.#refreshing = true;
    try {
      const lists = await Promise.all(kinds.map((kind) => this.#list(kind)));
      if (generation !== this.#generation || this.#state !== 'ready') return;
      const catalog = { ...this.#catalog, cacheHints: { ...this.#catalog.cacheHints } };
      this.#fill(catalog, kinds, lists);
      this.#catalog = catalog;
      this.#out({ type: 'catalog', server: this.id, catalog, signalled: kinds });
    } catch (error) {
      // After an exit the next start lists everything; only a live server's failure matters.
      if (generation === this.#generation && this.#live) {
        this.#log.warn(`could not re-read lists: ${String(error)}`);
      }
    } finally {
      this.#refreshing = false;
      if (this.#dirty.size > 0 && this.#state === 'ready') this.#scheduleRefresh();
    }
  }
}

/** The backend's handshake named this daemon's own instance id. */
class IsThisDaemon extends Error {}

/** What a stateless server's listen stream asks for; undefined when there is nothing. */
function listenFilter(
  capabilities: JsonObject,
  subscriptions: ReadonlySet<string>,
): JsonObject | undefined {
  const filter: JsonObject = {};
  const listChanged = (capability: string): boolean => {
    const declared = capabilities[capability];
    return isJsonObject(declared) && declared['listChanged'] === true;
  };
  if (listChanged('tools')) filter['toolsListChanged'] = true;
  if (listChanged('prompts')) filter['promptsListChanged'] = true;
  if (listChanged('resources')) filter['resourcesListChanged'] = true;
  const resources = capabilities['resources'];
  if (subscriptions.size > 0 && isJsonObject(resources) && resources['subscribe'] === true) {
    filter['resourceSubscriptions'] = [...subscriptions];
  }
  return Object.keys(filter).length === 0 ? undefined : filter;
}

/** A listen-stream notification as clients get it: our subscription id is ours alone. */
function withoutSubscriptionId(params: JsonObject): JsonObject {
  const meta = params['_meta'];
  if (!isJsonObject(meta) || !(META.subscriptionId in meta)) return params;
  const rest = omit(meta, [META.subscriptionId]);
  const copy: JsonObject = { ...params };
  if (Object.keys(rest).length === 0) delete copy['_meta'];
  else copy['_meta'] = rest;
  return copy;
}
