/**
 * The JSON-RPC side of one backend: request ids, the table of forwarded calls,
 * progress-token mapping, timeouts and cancellation, and the routing of what the backend
 * sends. The worker's own requests (initialize, lists) are kept by `OwnRequests`
 * (`own-requests.ts`), the backend's requests to the client by `ClientRequests`
 * (`client-requests.ts`). It knows nothing of processes; `Backend` attaches it to each new
 * child.
 *
 * Ids: one counter per backend, never the client's id, shared by forwarded calls and the
 * worker's own requests so a response id names exactly one of them. A forwarded call's id
 * doubles as the progress token the backend sees (unique among its in-flight requests, as
 * the spec requires); the client's own token is restored on the way back.
 *
 * Hot path: `forward` stringifies the params once and writes one line; `receive` gets the
 * line already parsed, serializes the result once for the reply, and validates nothing.
 *
 * Eras: toward a stateless-era (2026-07-28) backend every request carries the `_meta`
 * envelope, with the calling client's own capabilities (capability honesty,
 * docs/architecture.md#bridging-the-eras); its results, `input_required` ones included, pass
 * through untouched.
 */
import { payload, type CallFacts, type CallRecorder } from './call-recorder.js';
import { answerCall, type Answering } from './call-answer.js';
import { withEnvelope } from './client-info.js';
import { ClientRequests } from './client-requests.js';
import { OwnRequests, RequestFailed } from './own-requests.js';
import type { Era } from '../../shared/eras.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../shared/json.js';
import type { Logger } from '../../shared/log.js';
import type { CallMessage, ClientResponseMessage, ForwardedMethod } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import type { PeerWire, Sink } from './wires.js';
import { failedReply } from '../../shared/messages.js';

export interface PeerEvents {
  /** A backend notification other than progress (list_changed, logging, updates…). */
  onNotification(method: string, params: JsonValue | undefined): void;
  /** A forwarded call succeeded; lets the backend remember what a restart must re-apply. */
  onCallSucceeded(method: ForwardedMethod, params: JsonObject): void;
  /**
   * A forwarded call left (answered, timed out or cancelled), so a queued one may go. Not
   * called by `detach`: after an exit nothing can be sent until the next `attach`.
   */
  onCallSettled(): void;
}

export interface PeerOptions {
  server: string;
  /** How the backend is reached, for traces: 'pipe' (stdio) or 'tcp' (HTTP). */
  transport: 'pipe' | 'tcp';
  /** Keep each call's params and result in its record (the server's `recordPayloads`). */
  recordPayloads: boolean;
  out: Sink;
  recorder: CallRecorder;
  /** The server's `timeoutMs`: a call's own `timeoutMs`, when it has one, comes first. */
  timeoutMs: number;
  events: PeerEvents;
  log: Logger;
}

/** What `request` rejects with; its callers import it with the peer. */
export { RequestFailed };

export interface InFlight {
  method: ForwardedMethod;
  target: string;
}

interface PendingCall extends CallFacts, InFlight {
  method: ForwardedMethod;
  callId: number;
  id: number;
  /** The params as the supervisor sent them (the client's progress token included). */
  params: JsonObject;
  timeoutMs: number;
  /** The client's own progress token, restored on every progress notification. */
  clientToken: JsonValue | undefined;
  /** Whether the client asked for log messages about this call (stateless era). */
  wantsLogs: boolean;
  timer: NodeJS.Timeout;
}

export class BackendPeer {
  readonly #server: string;
  readonly #transport: 'pipe' | 'tcp';
  readonly #recordPayloads: boolean;
  readonly #out: Sink;
  readonly #recorder: CallRecorder;
  readonly #timeoutMs: number;
  readonly #events: PeerEvents;
  readonly #log: Logger;
  #wire: PeerWire | null = null;
  /** The era of the attached backend; set by `Backend` once it has probed. */
  era: Era = 'legacy';
  #nextId = 1;
  readonly #calls = new Map<number, PendingCall>();
  readonly #callIds = new Map<number, number>();
  readonly #own = new OwnRequests(this);
  readonly #clientRequests: ClientRequests;
  /** What answering a call needs (`call-answer.ts`). */
  readonly #answering: Answering;

  constructor(options: PeerOptions) {
    this.#server = options.server;
    this.#transport = options.transport;
    this.#recordPayloads = options.recordPayloads;
    this.#out = options.out;
    this.#recorder = options.recorder;
    this.#timeoutMs = options.timeoutMs;
    this.#events = options.events;
    this.#log = options.log;
    this.#answering = {
      server: options.server,
      out: options.out,
      recorder: options.recorder,
      recordPayloads: options.recordPayloads,
    };
    this.#clientRequests = new ClientRequests(options, { send: (json) => this.#wire?.send(json) });
  }

  /** Forwarded calls not yet settled. */
  get inFlight(): number {
    return this.#calls.size;
  }

  /** Starts talking to a new child. */
  attach(wire: PeerWire): void {
    this.#wire = wire;
  }

  /** Forwarded calls awaiting their answer (the worker's own requests not counted). */
  get callsInFlight(): number {
    return this.#calls.size;
  }

  // ───────────────────────────── forwarded calls ─────────────────────────────

  /** A call's timeout: its own when the message carries one (not 0), else the server's. */
  timeoutOf(message: CallMessage): number {
    return message.timeoutMs || this.#timeoutMs;
  }

  /**
   * Sends one call. `waitedMs`: how long it already waited in the backend's queue; its
   * timeout counts from its arrival, so it gets only what is left (errors name the whole).
   */
  forward(message: CallMessage, waitedMs = 0): void {
    const timeoutMs = this.timeoutOf(message);
    const startedAt = process.hrtime.bigint();
    const id = this.#nextId++;
    let params = message.params;
    let clientToken: JsonValue | undefined;
    const meta = params._meta;
    if (isJsonObject(meta) && meta.progressToken !== undefined) {
      // Copies, so the caller's object is left as it was.
      clientToken = meta.progressToken;
      params = { ...params, _meta: { ...meta, progressToken: id } };
    }
    if (this.era === 'modern') {
      params = withEnvelope(params, message.clientCapabilities, message.logLevel);
    }
    const span = this.#recorder.startSpan(
      {
        server: this.#server,
        method: message.method,
        target: message.target,
        session: message.context.session,
        profile: message.context.profile,
        client: message.context.client,
        requestId: id,
        transport: this.#transport,
      },
      params,
    );
    if (span !== undefined) params = span.params;
    const paramsJson = JSON.stringify(params);
    const pending: PendingCall = {
      ts: Date.now(),
      startedAt,
      server: this.#server,
      method: message.method,
      target: message.target,
      context: message.context,
      bytesIn: paramsJson.length,
      ...(span !== undefined && { span }),
      ...(this.#recordPayloads && { request: payload(paramsJson) }),
      callId: message.callId,
      id,
      params: message.params,
      timeoutMs,
      clientToken,
      wantsLogs: message.logLevel !== undefined,
      timer: setTimeout(BackendPeer.#onCallTimeout, Math.max(1, timeoutMs - waitedMs), this, id),
    };
    this.#calls.set(id, pending);
    this.#callIds.set(message.callId, id);
    this.#wire?.send(
      `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(message.method)},"params":${paramsJson}}`,
    );
  }

  /** Cancels a call upstream (no reply is sent); false when the call is not here. */
  cancel(callId: number, reason: string | undefined): boolean {
    const id = this.#callIds.get(callId);
    const call = id === undefined ? undefined : this.#calls.get(id);
    if (call === undefined) return false;
    this.#forget(call);
    this.notify(
      'notifications/cancelled',
      reason === undefined ? { requestId: call.id } : { requestId: call.id, reason },
    );
    this.#recorder.record(call, { status: 'cancelled' });
    return true;
  }

  static #onCallTimeout(peer: BackendPeer, id: number): void {
    peer.#expire(id);
  }

  #expire(id: number): void {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    this.#forget(call);
    this.notify('notifications/cancelled', {
      requestId: id,
      reason: `timed out after ${call.timeoutMs} ms`,
    });
    const error = directorError(
      DirectorErrorCode.BackendTimeout,
      `Server '${this.#server}' did not answer ${call.method} '${call.target}' within ${call.timeoutMs} ms`,
      { server: this.#server },
    );
    this.#out(failedReply(call.callId, error));
    this.#recorder.record(call, { status: 'timeout', error });
  }

  #complete(call: PendingCall, response: JsonObject): void {
    this.#forget(call);
    const succeeded = answerCall(call, response, this.#answering);
    if (succeeded && call.method !== 'tools/call') {
      this.#events.onCallSucceeded(call.method, call.params);
    }
  }

  #forget(call: PendingCall): void {
    clearTimeout(call.timer);
    this.#calls.delete(call.id);
    this.#callIds.delete(call.callId);
    this.#clientRequests.callEnded(call);
    this.#events.onCallSettled();
  }

  /**
   * The child is gone: every forwarded call is answered with `errorFor(call)` and every
   * own request fails with `why`. Nothing is written until the next `attach`.
   */
  detach(errorFor: (call: InFlight) => WireError, why: string): void {
    this.#wire = null;
    for (const call of this.#calls.values()) {
      clearTimeout(call.timer);
      const error = errorFor(call);
      this.#out(failedReply(call.callId, error));
      this.#recorder.record(call, { status: 'error', error });
    }
    this.#calls.clear();
    this.#callIds.clear();
    this.#clientRequests.clear();
    this.#own.failAll(why);
  }

  // ───────────────────────────── the worker's own requests ─────────────────────────────

  /**
   * Sends a request of the worker's own. `timeoutMs` 0 waits for as long as the backend
   * lives (a `subscriptions/listen` stream); `onSent` learns the id (to cancel it).
   */
  request(
    method: string,
    params: JsonObject,
    timeoutMs: number,
    onSent?: (id: number) => void,
  ): Promise<JsonObject> {
    const wire = this.#wire;
    if (wire === null) {
      return Promise.reject(
        new RequestFailed(`server is not running; ${method} not sent`, 'exited'),
      );
    }
    const id = this.#nextId++;
    if (this.era === 'modern') params = withEnvelope(params, {});
    return this.#own.send(wire, id, method, params, timeoutMs, onSent);
  }

  /** Stops waiting for an own request (its answer is then dropped) and cancels it upstream. */
  abandon(id: number, reason: string): void {
    this.#own.abandon(id, reason);
  }

  notify(method: string, params?: JsonObject): void {
    const message =
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
    this.#wire?.send(JSON.stringify(message));
  }

  // ───────────────────────────── messages from the backend ─────────────────────────────

  /**
   * One message from the backend. `relatedId` is the id of the request on whose HTTP
   * response stream it came (stateless-era HTTP), which attributes its notifications.
   */
  receive(message: unknown, relatedId?: number): void {
    if (Array.isArray(message)) {
      // JSON-RPC batches (2025-03-26 only): each element stands on its own.
      for (const item of message) this.receive(item);
      return;
    }
    if (!isJsonObject(message)) return;
    const { method, id } = message;
    if (typeof method === 'string') {
      if (id === undefined || id === null) this.#onNotification(method, message.params, relatedId);
      else {
        const params = isJsonObject(message.params) ? message.params : {};
        this.#clientRequests.receive(id, method, params, this.#calls.values());
      }
      return;
    }
    const call = typeof id === 'number' ? this.#calls.get(id) : undefined;
    if (call !== undefined) {
      this.#complete(call, message);
      return;
    }
    if (typeof id === 'number' && this.#own.settle(id, message)) return;
    // A late answer to a call that timed out or was cancelled.
    this.#log.debug(`answer to request ${JSON.stringify(id)} arrived after it was settled`);
  }

  #onNotification(method: string, params: JsonValue | undefined, relatedId?: number): void {
    if (method === 'notifications/message' && this.era === 'modern' && isJsonObject(params)) {
      this.#onCallLog(params, relatedId);
      return;
    }
    if (method !== 'notifications/progress') {
      this.#events.onNotification(method, params);
      return;
    }
    if (!isJsonObject(params)) return;
    const token = params.progressToken;
    const call = typeof token === 'number' ? this.#calls.get(token) : undefined;
    if (call === undefined || call.clientToken === undefined) {
      this.#log.debug(`progress for unknown token ${JSON.stringify(token)} dropped`);
      return;
    }
    this.#out({
      type: 'call-notification',
      callId: call.callId,
      method: 'notifications/progress',
      params: { ...params, progressToken: call.clientToken },
    });
  }

  /**
   * A stateless-era log message belongs to the request that asked for logs
   * (https://modelcontextprotocol.io/specification/draft/server/utilities/logging). Over HTTP
   * its stream names it; over stdio nothing does, so it goes to the one call in flight that
   * asked for logs, and is dropped when there are several.
   */
  #onCallLog(params: JsonObject, relatedId: number | undefined): void {
    let call = relatedId === undefined ? undefined : this.#calls.get(relatedId);
    if (relatedId === undefined) {
      for (const candidate of this.#calls.values()) {
        if (!candidate.wantsLogs) continue;
        if (call !== undefined) return; // ambiguous
        call = candidate;
      }
    }
    if (call === undefined || !call.wantsLogs) return;
    this.#out({
      type: 'call-notification',
      callId: call.callId,
      method: 'notifications/message',
      params,
    });
  }

  /** The client answered a request this backend sent; false if it was not this backend's. */
  clientResponse(message: ClientResponseMessage): boolean {
    return this.#clientRequests.answer(message);
  }
}
