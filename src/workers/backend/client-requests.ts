/**
 * The backend's own requests to the client (sampling, elicitation, roots: server-to-client
 * requests of the session era). Each goes up as a `client-request` to the client of the call
 * it belongs to, under a request id of this thread; the client's answer comes down as a
 * `client-response` and goes back to the backend under the backend's own id. A request whose
 * call ends before the client answers is answered with an error, so the backend never waits
 * on a client that moved on. `BackendPeer` owns one per backend and hands it the calls in
 * flight.
 */
import { JsonRpcCode, rpcError } from '../../shared/errors.js';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import type { Logger } from '../../shared/log.js';
import type { CallContext, ClientResponseMessage } from '../../shared/messages.js';
import type { WireError } from '../../shared/errors.js';
import type { PeerWire, Sink } from './wires.js';

/** What attribution needs of a forwarded call in flight. */
export interface AskingCall {
  /** The backend-local id: the highest is the latest call. */
  id: number;
  callId: number;
  method: string;
  context: CallContext;
}

/** A server-to-client request sent on to the client of `callId`, awaiting its answer. */
interface AskedClient {
  /** The backend's own id for the request, restored in the answer. */
  backendId: JsonValue;
  callId: number;
  method: string;
}

export class ClientRequests {
  readonly #server: string;
  readonly #out: Sink;
  readonly #log: Logger;
  /** The backend's side: answers are written to whichever child is attached now. */
  readonly #backend: PeerWire;
  readonly #asked = new Map<number, AskedClient>();
  /** Per thread, not per backend: a server's session instances share a server id. */
  static #nextAsk = 1;

  constructor(options: { server: string; out: Sink; log: Logger }, backend: PeerWire) {
    this.#server = options.server;
    this.#out = options.out;
    this.#log = options.log;
    this.#backend = backend;
  }

  /**
   * Server-to-client requests (sampling, elicitation, roots). Over stdio a request carries
   * nothing that names the call it belongs to, so it goes to a client only when every call
   * in flight on this backend comes from one session (attribution,
   * docs/architecture.md#bridging-the-eras); otherwise it is refused rather than risk asking
   * the wrong person. Ping is answered here.
   */
  receive(id: JsonValue, method: string, params: JsonObject, calls: Iterable<AskingCall>): void {
    if (method === 'ping') {
      this.#answerBackend(id, { ok: true, result: {} });
      return;
    }
    const sessions = new Set<string>();
    let latest: AskingCall | undefined;
    for (const call of calls) {
      sessions.add(call.context.session);
      if (latest === undefined || call.id > latest.id) latest = call;
    }
    if (latest === undefined || sessions.size !== 1) {
      const why =
        latest === undefined
          ? 'no call is in flight on this server, so no client asked for anything'
          : `calls from ${sessions.size} client sessions are in flight on this server`;
      this.#log.debug(`refused server-to-client request ${method}: ${why}`);
      this.#answerBackend(id, {
        ok: false,
        error: rpcError(
          JsonRpcCode.InternalError,
          `MCP Director cannot tell which client to send ${method} to: ${why}`,
        ),
      });
      return;
    }
    const requestId = ClientRequests.#nextAsk++;
    this.#asked.set(requestId, { backendId: id, callId: latest.callId, method });
    this.#out({
      type: 'client-request',
      server: this.#server,
      callId: latest.callId,
      requestId,
      method,
      params,
    });
  }

  /** The client answered a request this backend sent; false if it was not this backend's. */
  answer(message: ClientResponseMessage): boolean {
    const asked = this.#asked.get(message.requestId);
    if (asked === undefined) return false;
    this.#asked.delete(message.requestId);
    this.#answerBackend(
      asked.backendId,
      message.ok ? { ok: true, result: message.result } : { ok: false, error: message.error },
    );
    return true;
  }

  /** A forwarded call left: what it caused and the client has not answered gets an error. */
  callEnded(call: AskingCall): void {
    for (const [requestId, asked] of this.#asked) {
      if (asked.callId !== call.callId) continue;
      this.#asked.delete(requestId);
      this.#answerBackend(asked.backendId, {
        ok: false,
        error: rpcError(
          JsonRpcCode.InternalError,
          `the ${call.method} call that caused this ${asked.method} ended before the client answered`,
        ),
      });
    }
  }

  /** The child is gone: nothing it asked can be answered. */
  clear(): void {
    this.#asked.clear();
  }

  #answerBackend(
    id: JsonValue,
    outcome: { ok: true; result: JsonObject } | { ok: false; error: WireError },
  ): void {
    const idJson = JSON.stringify(id);
    this.#backend.send(
      outcome.ok
        ? `{"jsonrpc":"2.0","id":${idJson},"result":${JSON.stringify(outcome.result)}}`
        : `{"jsonrpc":"2.0","id":${idJson},"error":${JSON.stringify(outcome.error)}}`,
    );
  }
}
