/**
 * The only contract between the supervisor thread and the shard workers.
 *
 * Each shard worker runs one long-lived piscina task that receives a transferred
 * MessagePort; every message below flows on that port, batched per event-loop turn by
 * `src/shared/link.ts`. Messages are plain data (structured clone drops prototypes), so
 * errors cross as `WireError` values, never as `Error` objects.
 *
 * Ids: `callId` is minted by the supervisor, unique per daemon run; the worker maps it to
 * a backend-local JSON-RPC id of its own, so ids never collide across sessions or
 * backends. Client ids and progress tokens never reach a backend unmapped.
 */
import type { Limits, OtlpConfig, ServerConfig } from './config/types.js';
import type { MessagePort } from 'node:worker_threads';
import type { JsonObject } from './json.js';
import type { Era } from './eras.js';
import type { WireError } from './errors.js';
import type { LogLevelName } from './log.js';
import type { BackendCatalog } from './backend-catalog.js';
import type { CallStatsRow, LiveCall } from './analytics/finished-calls.js';

/** Bumped when a message shape changes incompatibly; checked in the task handshake. */
export const THREAD_PROTOCOL_VERSION = 12;

/** Requests the supervisor forwards to a backend (everything else it answers itself). */
export type ForwardedMethod =
  | 'tools/call'
  | 'prompts/get'
  | 'resources/read'
  | 'resources/subscribe'
  | 'resources/unsubscribe'
  | 'completion/complete'
  | 'logging/setLevel'
  | TaskMethod;

/** The 2025-11-25 experimental tasks utility: routed by the (namespaced) task id. */
export type TaskMethod = 'tasks/get' | 'tasks/result' | 'tasks/cancel' | 'tasks/list';

/** Who caused a call: recorded in analytics, never sent to the backend. */
export interface CallContext {
  session: string;
  profile: string;
  /** The client's `clientInfo.name` from initialize, or '' when unknown. */
  client: string;
  /** The client's protocol era: 'legacy' = 2025-03-26 … 2025-11-25. */
  era: Era;
  /**
   * Whose own instance of a `share: "identity"` server carries the call: the caller's token
   * name or OAuth user (supervisor/ingress/access.ts); '' : the server's shared instance.
   */
  identity: string;
  /**
   * Which project's instance of a `share: "project"` server carries the call: the folder the
   * caller works in (absolute, real; supervisor/session/projects.ts); '' : none.
   */
  project: string;
  /** That project's `${projectName}`; '' with no project. */
  projectName: string;
}

/** The input of each shard's long-lived task (piscina `run()` argument). */
export interface ShardTaskInput {
  protocolVersion: number;
  shard: number;
  /**
   * The daemon's instance id: a backend whose initialize/discover result carries it is this
   * daemon itself and is refused. Absent when a test runs a shard on its own.
   */
  instance?: string;
  /** The port the shard talks on; transferred, so the worker owns it. */
  port: MessagePort;
  /** The backends this shard owns (those whose id hashes to it). */
  servers: ServerConfig[];
  /** LMDB analytics folder, or null when analytics are off. */
  analyticsPath: string | null;
  /** The data folder: remote servers' stored sign-ins are under it (shared/credentials). */
  dataDir: string;
  /** Where to export a span per forwarded call; absent or null when tracing is off. */
  telemetry?: OtlpConfig | null;
  /** Log level of the daemon, so worker logs match the supervisor's. */
  logLevel: LogLevelName;
  /** What one backend may cost (message size, stderr kept, calls in flight and queued). */
  limits: Limits;
}

// ───────────────────────────── supervisor → worker ─────────────────────────────

/** Forward one request to a backend. Answered by exactly one `reply`, unless cancelled. */
export interface CallMessage {
  type: 'call';
  callId: number;
  server: string;
  method: ForwardedMethod;
  /**
   * The params as the backend must see them: names already mapped back to the backend's
   * own, the client's `_meta` (including `progressToken`) untouched; the worker swaps the
   * progress token for a backend-unique one and restores it on the way back.
   */
  params: JsonObject;
  /**
   * The worker answers BACKEND_TIMEOUT and cancels upstream after this long. Absent (or 0):
   * the server's configured `timeoutMs`, which the worker has (the supervisor keeps no copy).
   */
  timeoutMs?: number;
  /** What the call is about, for analytics: tool or prompt name (backend's), or URI. */
  target: string;
  context: CallContext;
  /**
   * What the calling client declared it can be asked (sampling, elicitation, roots). A
   * stateless-era backend is told exactly this in the request's `_meta`, so it never asks
   * for input the client cannot give.
   */
  clientCapabilities: JsonObject;
  /**
   * The log level the client wants for this call; a stateless-era backend logs only then.
   * Always present (undefined: none), so every call message has one shape.
   */
  logLevel: string | undefined;
}

/** The client cancelled the call (or went away): tell the backend, send no reply. */
export interface CancelMessage {
  type: 'cancel';
  callId: number;
  reason?: string;
}

/** Stop every backend of the shard (stdin close, SIGTERM, SIGKILL), then `stopped`. */
export interface StopMessage {
  type: 'stop';
}

/** How the client answered a server-to-client request: its result or its error, untouched. */
export type ClientOutcome = { ok: true; result: JsonObject } | { ok: false; error: WireError };

/** The client's answer to a `client-request`, for the backend that asked. */
export type ClientResponseMessage = {
  type: 'client-response';
  server: string;
  /** The `requestId` of the `client-request` being answered. */
  requestId: number;
} & ClientOutcome;

/**
 * A client session ended (DELETE, closed stream, idle): its own backend instances of
 * `share: "session"` servers are stopped. Sent to every shard.
 */
export interface SessionEndedMessage {
  type: 'session-ended';
  session: string;
}

/**
 * An identity's credentials changed for a `share: "identity"` server (it signed in or out,
 * or its token left the config): its own instance of that server stops (a sign-out must not
 * leave its tokens in use), and its next call, if any, starts one that reads them afresh.
 */
export interface IdentityChangedMessage {
  type: 'identity-changed';
  server: string;
  identity: string;
}

/**
 * Config hot reload: start one more backend on this shard (its id now hashes here). It goes
 * through `starting`, `catalog`, `ready` like the shard's first ones. If a server of that id
 * is still being removed (a changed entry: remove, then add), it starts once the old one is
 * gone, so one id never has two processes.
 */
export interface AddServerMessage {
  type: 'add-server';
  server: ServerConfig;
}

/**
 * Config hot reload: stop one backend for good, with its per-session instances (stdin
 * close, SIGTERM, SIGKILL). Calls in flight that the stop cuts short are answered
 * SERVER_REMOVED, calls arriving meanwhile BACKEND_UNAVAILABLE. Acknowledged by the
 * server's `server-state` `stopped` (without `session`), sent once every instance has
 * stopped; nothing more about that server follows. An id the shard does not run is
 * acknowledged at once.
 */
export interface RemoveServerMessage {
  type: 'remove-server';
  server: string;
}

/**
 * A server is needed: a call waits for it, or a client listed a profile that includes it.
 * An `idle` server (lazy and never started, or stopped after `idleStopMs`) starts; a server
 * in any other state is left as it is. Its `server-state`s say how the start goes.
 */
export interface StartServerMessage {
  type: 'start-server';
  server: string;
}

/**
 * Someone watches calls live (`/api/events`): while on, the shard also sends each finished
 * call (`calls`); off, it sends none, so nobody pays for a feed nobody reads.
 */
export interface LiveCallsMessage {
  type: 'live-calls';
  on: boolean;
}

/** What an admin can ask of one server (`POST /api/servers/<name>/<action>`). */
export type ServerAction = 'restart' | 'stop' | 'start';

/**
 * An admin controls one server (README "Dashboard", docs/architecture.md#dashboard): its
 * shared instance; a restart or stop also ends the identities' own instances of a
 * `share: "identity"` server (they start again on their next call), never a session's own
 * instance of a `share: "session"` one. While it is stopped, every call is refused. So:
 * - `restart`: a running process is stopped and the next one started at once, through the
 *   supervised restart path (`restarting`, restarts + 1, then `starting` … `ready`); a server
 *   without a process (failed, restarting, idle, stopped by an admin) starts now.
 * - `stop`: stopped as for a removal (calls in flight fail, `stopped`), but kept configured and
 *   not restarted until a `start` or a `restart`.
 * - `start`: a server stopped by an admin, idle, or waiting to retry starts now; a running one
 *   is left as it is.
 * Every change is reported as usual by `server-state`. An id the shard does not run is ignored
 * (the supervisor checked it).
 */
export interface ControlServerMessage {
  type: 'control-server';
  server: string;
  action: ServerAction;
}

export type SupervisorMessage =
  | LiveCallsMessage
  | ControlServerMessage
  | CallMessage
  | StartServerMessage
  | CancelMessage
  | ClientResponseMessage
  | SessionEndedMessage
  | IdentityChangedMessage
  | AddServerMessage
  | RemoveServerMessage
  | StopMessage;

// ───────────────────────────── worker → supervisor ─────────────────────────────

/** The shard is listening on its port. Sent once, first. */
export interface ReadyMessage {
  type: 'ready';
  shard: number;
  protocolVersion: number;
}

/**
 * The answer to a `call`. `result` is the backend's result serialized as JSON text: the
 * worker serializes it once, so the supervisor splices it into the response without
 * touching it (docs/architecture.md#payloads-pass-through).
 */
export type ReplyMessage =
  | { type: 'reply'; callId: number; ok: true; result: string }
  | { type: 'reply'; callId: number; ok: false; error: WireError };

/** The reply that ends call `callId` with `error`, on either side of the thread hop. */
export function failedReply(callId: number, error: WireError): ReplyMessage {
  return { type: 'reply', callId, ok: false, error };
}

/**
 * A notification about one call, for that call's client only: `notifications/progress`
 * (with the client's own progress token restored) or a stateless-era backend's
 * `notifications/message` for a call that asked for logs.
 */
export interface CallNotificationMessage {
  type: 'call-notification';
  callId: number;
  method: 'notifications/progress' | 'notifications/message';
  params: JsonObject;
}

/**
 * `idle`: no process, and none wanted until a `start-server` or a call comes: a lazy server
 * nobody needed yet, or one stopped after `idleStopMs` without a call (its catalog stays
 * listed). A call that reaches an idle server starts it and is refused as `starting`.
 */
export type BackendState =
  'starting' | 'ready' | 'restarting' | 'failed' | 'stopped' | 'idle' | 'needs-auth';

/** A backend changed state. `pid` lets the supervisor kill orphans if the worker dies. */
export interface ServerStateMessage {
  type: 'server-state';
  server: string;
  state: BackendState;
  /** Process group id (= pid, children are started detached) of a stdio backend. */
  pid?: number;
  restarts: number;
  /** Why the backend failed or restarted, in words a user can act on. */
  error?: string;
  /**
   * Set for the instance of a `share: "session"` server that serves this one session; its
   * state is not the server's (that is its shared catalog instance), only its pid matters.
   * The first state after such an instance's process is gone names the pid that ended.
   */
  session?: string;
  /** Likewise for an identity's own instance of a `share: "identity"` server. */
  identity?: string;
  /** Likewise for a project's own instance of a `share: "project"` server (its folder). */
  project?: string;
}

/** Whether a state is a caller's own instance's, not the server's (see `session`). */
export function isCallersInstance(message: ServerStateMessage): boolean {
  return (
    message.session !== undefined || message.identity !== undefined || message.project !== undefined
  );
}

/** A backend's full catalog, sent after it starts and after each list_changed. */
export interface CatalogMessage {
  type: 'catalog';
  server: string;
  catalog: BackendCatalog;
  /**
   * The lists the backend said changed (its `list_changed`), even if they read the same:
   * clients are told what the backend told us, not only what a diff shows.
   */
  signalled: Array<'tools' | 'prompts' | 'resources' | 'resourceTemplates'>;
}

/**
 * A backend notification that is not about one call: `notifications/message` (logging)
 * and `notifications/resources/updated`. The supervisor decides which sessions get it.
 */
export interface ServerNotificationMessage {
  type: 'server-notification';
  server: string;
  method: string;
  params: JsonObject;
  /** From a session's own instance of a `share: "session"` server: for that session only. */
  session?: string;
  /** From an identity's own instance: for that identity's sessions only. */
  identity?: string;
  /** From a project's own instance: for the sessions working in that project only. */
  project?: string;
}

/**
 * A backend sent a server-to-client request (sampling, elicitation, roots) while `callId`
 * was in flight, and that call is the only session it can belong to (over stdio a request
 * carries nothing that names its cause). The supervisor asks that call's client and answers
 * with one `client-response`. Requests that cannot be attributed never leave the worker.
 */
export interface ClientRequestMessage {
  type: 'client-request';
  server: string;
  callId: number;
  /** Worker-local id of this request, echoed by the `client-response`. */
  requestId: number;
  method: string;
  params: JsonObject;
}

/**
 * Counts of the calls the shard finished, about once a second when there were any: what
 * `/metrics` adds up, so the supervisor counts nothing per call itself.
 */
export interface CallStatsMessage {
  type: 'call-stats';
  rows: CallStatsRow[];
}

/** The calls finished since the last `calls`, while `live-calls` is on (a few times a second). */
export interface CallsMessage {
  type: 'calls';
  calls: LiveCall[];
}

/** Every backend of the shard has stopped; the task is about to return. */
export interface StoppedMessage {
  type: 'stopped';
}

export type WorkerMessage =
  | ReadyMessage
  | ReplyMessage
  | CallNotificationMessage
  | ServerStateMessage
  | CatalogMessage
  | ServerNotificationMessage
  | ClientRequestMessage
  | CallStatsMessage
  | CallsMessage
  | StoppedMessage;
