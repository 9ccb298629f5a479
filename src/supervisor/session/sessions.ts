/**
 * Legacy-era (2025-03-26 … 2025-11-25) client sessions: created by `initialize`, named by
 * `Mcp-Session-Id`, ended by DELETE or by idling out. A session holds what the protocol
 * makes session-scoped: the negotiated version, the GET stream, the log level, resource
 * subscriptions and the client's in-flight requests (for `notifications/cancelled`).
 */
import type { Project } from './projects.js';
import type { ClusterNode } from './cluster-node.js';
import type { JsonObject, RequestId } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { ClientOutcome } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import type { Era } from '../../shared/eras.js';
import { logger } from '../../shared/log.js';
import { errorFrame } from '../../shared/jsonrpc.js';

const log = logger('sessions');

/**
 * What a session asks of its Streamable HTTP streams and open responses; the transport that
 * owns them (`transports/session-streams.ts`) implements it, so this layer names no transport.
 */
/** The transports a session-era client can come over. */
export type SessionTransport = 'streamable-http' | 'sse' | 'stdio';

export interface SessionResponses {
  /** A response or stream is still open. */
  readonly busy: boolean;
  /** The client cancelled this request: its open response ends without an answer. */
  cancel(id: RequestId): boolean;
  /** The session ended: each open response gets `frameFor(its id)`, and every stream ends. */
  close(frameFor: (id: RequestId) => string): void;
}

/** Log levels of MCP (RFC 5424), least severe first. */
export const LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevelRank(level: string): number {
  return LOG_LEVELS.indexOf(level as LogLevel);
}

/** Where a session's messages that belong to no request go: the HTTP GET stream, or stdout. */
export interface SessionChannel {
  /** Sends one serialized JSON-RPC message. */
  send(frame: string): void;
  end(): void;
  /** It takes no more messages (the session's stream ended). */
  readonly closed: boolean;
  /** A client reads it now (a resumable stream keeps messages while none does). */
  readonly connected: boolean;
}

/**
 * Who a request comes from, in either era: a legacy session, or (stateless era) the one
 * request itself, whose `_meta` says what a session would otherwise hold.
 */
export interface Caller {
  readonly era: Era;
  /** The session id, or a per-request id in the stateless era. */
  readonly id: string;
  readonly profile: string;
  /**
   * Whose credentials `share: "identity"` servers use: '' the server's own (a daemon without
   * tokens, its own stdio, the director's calls); null none (such servers refuse the caller).
   */
  readonly identity: string | null;
  /** The project its calls of `share: "project"` servers go to (projects.ts); null: none. */
  readonly project: Project | null;
  /** Why the folder it named (or its roots) gave no project, for the needs-project error. */
  readonly projectRefused?: string | undefined;
  readonly clientName: string;
  /** What the client declared it can be asked (sampling, elicitation, roots). */
  readonly clientCapabilities: JsonObject;
  /** The log level the client asked for; undefined: legacy default (all) / stateless (none). */
  readonly logLevel: LogLevel | undefined;
  /** The client's in-flight requests: request id key → call id. */
  readonly calls: Map<string, number>;
  /** Calls forwarded to a backend for this caller so far (a session's, for /api/sessions). */
  forwarded: number;
}

/** Anyone who can be told that a subscribed resource changed. */
export interface Subscriber {
  readonly id: string;
  notify(method: string, params?: JsonObject): void;
}

export class Session implements Caller, Subscriber {
  readonly era = 'legacy' as const;
  readonly id: string;
  readonly protocolVersion: string;
  readonly clientInfo: JsonObject;
  readonly clientCapabilities: JsonObject;
  readonly profile: string;
  /** Decided at initialize; every later request must come from the same identity. */
  readonly identity: string | null;
  /** From initialize (a header, or `connect`'s folder), or from the client's roots. */
  project: Project | null = null;
  /** Why the client's folder or roots gave no project: the needs-project error says it. */
  projectRefused: string | undefined;
  /** Its project came from its roots, so `notifications/roots/list_changed` asks again. */
  projectFromRoots = false;
  /**
   * The folder `connect` runs in, for a client that declared roots: its roots come first,
   * and this is its project only when none of them is one.
   */
  projectFallback: Project | null = null;
  readonly createdAt = Date.now();
  lastSeen = Date.now();
  /** The GET stream (or stdout) for messages not tied to a request, if the client has one. */
  channel: SessionChannel | undefined;
  /** Its Streamable HTTP streams and open responses, once it made a request over HTTP. */
  streams: SessionResponses | undefined;
  /** Set by `logging/setLevel`; undefined means the client never asked (it gets everything). */
  logLevel: LogLevel | undefined;
  /** Resource URIs this session subscribed to. */
  readonly subscriptions = new Set<string>();
  /** The client's in-flight requests: request id key → call id. */
  readonly calls = new Map<string, number>();
  forwarded = 0;
  /** Requests sent to the client on a backend's behalf, by their JSON-RPC id. */
  readonly #asked = new Map<string, (outcome: ClientOutcome) => void>();
  #nextAsk = 1;

  constructor(
    /** Minted by `ClusterNode.sessionId` (it names this node when there are several). */
    id: string,
    protocolVersion: string,
    clientInfo: JsonObject,
    clientCapabilities: JsonObject,
    /** Who initialized it (ingress/access.ts). */
    who: { profile: string; identity: string | null },
    /** How the client reaches its session: for /api and /metrics. */
    readonly transport: SessionTransport = 'streamable-http',
  ) {
    this.id = id;
    this.protocolVersion = protocolVersion;
    this.clientInfo = clientInfo;
    this.clientCapabilities = clientCapabilities;
    this.profile = who.profile;
    this.identity = who.identity;
  }

  get clientName(): string {
    const name = this.clientInfo['name'];
    return typeof name === 'string' ? name : '';
  }

  /** Sends a notification on the session's channel; false when the client has none. */
  notify(method: string, params?: JsonObject): boolean {
    const message =
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    return this.sendFrame(JSON.stringify(message));
  }

  /** Sends an already serialized JSON-RPC message on the session's channel, if there is one. */
  sendFrame(frame: string): boolean {
    if (this.channel === undefined || this.channel.closed) return false;
    this.channel.send(frame);
    return true;
  }

  /**
   * Sends a request to the client (via `send`: the stream of the call that caused it) and
   * remembers who waits for the answer. Ids are the director's own, so they never collide
   * with the client's ids or with another backend's.
   */
  ask(
    method: string,
    params: JsonObject,
    send: (frame: string) => void,
    answer: (outcome: ClientOutcome) => void,
  ): string {
    const id = `mcpd-${this.#nextAsk++}`;
    this.#asked.set(id, answer);
    send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return id;
  }

  /** The client answered one of our requests; false if we did not ask (or gave up). */
  answered(id: RequestId, message: JsonObject): boolean {
    const key = String(id);
    const answer = this.#asked.get(key);
    if (answer === undefined) return false;
    this.#asked.delete(key);
    const error = message['error'];
    if (isJsonObject(error)) answer({ ok: false, error: error as unknown as WireError });
    else answer({ ok: true, result: isJsonObject(message['result']) ? message['result'] : {} });
    return true;
  }

  /** Stops waiting for an answer (the call ended); a late answer is then ignored. */
  forget(id: string): void {
    this.#asked.delete(id);
  }

  /** The session ended: whoever waits for the client's answers gets an error. */
  abandonAsked(): void {
    for (const answer of this.#asked.values()) {
      answer({
        ok: false,
        error: rpcError(JsonRpcCode.InternalError, 'the client session ended before it answered'),
      });
    }
    this.#asked.clear();
  }

  /** A call in flight, a client reading a stream, or a stream waiting to be resumed. */
  get busy(): boolean {
    return this.calls.size > 0 || this.channel?.connected === true || this.streams?.busy === true;
  }

  wantsLog(level: string): boolean {
    return this.logLevel === undefined || logLevelRank(level) >= logLevelRank(this.logLevel);
  }
}

/**
 * The key of a client's request id in `Session.calls` (ids are strings or numbers). An exact
 * big id keys as its nearest number, which is what a `notifications/cancelled` naming it
 * parses to.
 */
export function requestKey(id: RequestId): string {
  if (typeof id === 'string') return `s${id}`;
  return `n${typeof id === 'number' ? id : Number(id.text)}`;
}

/** What bounds the sessions: their number, and each one's idle time. */
export interface SessionLimits {
  idleMs: number;
  /** Live sessions at most; at the cap the longest-idle one that is not busy is evicted. */
  maxSessions: number;
  /** This daemon among its peers: who minted a session id it does not know. */
  cluster: ClusterNode;
}

/** What a client at the session cap is told to wait before it tries again. */
export const SESSIONS_RETRY_AFTER_S = 5;

export class Sessions {
  readonly #sessions = new Map<string, Session>();
  #idleMs: number;
  readonly #maxSessions: number;
  readonly #onStart: ((session: Session) => void)[] = [];
  readonly #onEnd: ((session: Session) => void)[] = [];
  readonly #timer: NodeJS.Timeout;

  readonly #cluster: ClusterNode;

  constructor(limits: SessionLimits) {
    this.#cluster = limits.cluster;
    this.#idleMs = limits.idleMs;
    this.#maxSessions = limits.maxSessions;
    this.#timer = setInterval(() => this.#evictIdle(), Math.min(60_000, limits.idleMs)).unref();
  }
  /** The node that owns a session id unknown here, when another node of the cluster does. */
  ownerOf(id: string): string | undefined {
    return this.#cluster.ownerOf(id);
  }

  /** Adds what runs when a session starts (after initialize). */
  onStart(handler: (session: Session) => void): void {
    this.#onStart.push(handler);
  }

  /** Adds what runs when a session ends (the relay releases what it held, analytics log it). */
  onEnd(handler: (session: Session) => void): void {
    this.#onEnd.push(handler);
  }

  /** A reloaded `sessionIdleMs`: applies from the next idle check. */
  set idleMs(ms: number) {
    this.#idleMs = ms;
  }

  /**
   * Makes room for one more session: under the cap there is room; at the cap the session
   * idle the longest among those not busy (no call in flight, no stream open or waiting to
   * be resumed) is ended as on DELETE, and its client's next request gets 404. False when
   * every session is busy: the caller refuses the new one (503 with `Retry-After`).
   */
  makeRoom(): boolean {
    if (this.#sessions.size < this.#maxSessions) return true;
    let oldest: Session | undefined;
    for (const session of this.#sessions.values()) {
      if (session.busy) continue;
      if (oldest === undefined || session.lastSeen < oldest.lastSeen) oldest = session;
    }
    if (oldest === undefined) {
      log.warn(
        `${this.#sessions.size} sessions, the limit ("limits.maxSessions"), are all busy: a new session is refused`,
      );
      return false;
    }
    log.info(
      `session limit ${this.#maxSessions} reached: ended session ${oldest.id.slice(0, 8)}… (client '${oldest.clientName}', idle ${Date.now() - oldest.lastSeen} ms) for a new one`,
    );
    this.end(oldest.id);
    return this.#sessions.size < this.#maxSessions;
  }

  add(session: Session): void {
    this.#sessions.set(session.id, session);
    for (const handler of this.#onStart) handler(session);
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  values(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** Ends a session: closes its stream and lets the owner release what it held. */
  end(id: string): boolean {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#sessions.delete(id);
    session.streams?.close(sessionEndedFrame);
    session.channel?.end();
    for (const handler of this.#onEnd) handler(session);
    return true;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const session of [...this.#sessions.values()]) {
      if (!session.busy && session.lastSeen < cutoff) this.end(session.id);
    }
  }
}

/** What a request still open when its session ends is answered. */
function sessionEndedFrame(id: RequestId): string {
  return errorFrame(
    id,
    rpcError(
      JsonRpcCode.InternalError,
      'The session ended before this request was answered (DELETE or idle timeout); its call was cancelled',
    ),
  );
}
