/**
 * The worker's own requests to a backend (initialize, `server/discover`, lists,
 * re-subscribe, `subscriptions/listen`), as promises: each settles with the backend's answer,
 * its timeout, or the child's exit. Their ids come from `BackendPeer`'s one counter, shared
 * with forwarded calls, so a response id names exactly one of them. A request that times out
 * or is abandoned is cancelled upstream (never `initialize`, which the spec forbids cancelling).
 */
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import type { PeerWire } from './wires.js';

/** A request of the worker's own (initialize, lists, re-subscribe) that did not succeed. */
export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly kind: 'error' | 'timeout' | 'exited',
    /** The JSON-RPC error code, when the backend answered with an error. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Where cancellations go: the peer, which writes to whichever child is attached now. */
export interface Notifier {
  notify(method: string, params?: JsonObject): void;
}

interface OwnRequest {
  method: string;
  resolve: (result: JsonObject) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class OwnRequests {
  readonly #pending = new Map<number, OwnRequest>();
  readonly #peer: Notifier;

  constructor(peer: Notifier) {
    this.#peer = peer;
  }

  /**
   * Sends request `id` on `wire`. `timeoutMs` 0 waits for as long as the backend lives (a
   * `subscriptions/listen` stream); `onSent` learns the id (to cancel it).
   */
  send(
    wire: PeerWire,
    id: number,
    method: string,
    params: JsonObject,
    timeoutMs: number,
    onSent?: (id: number) => void,
  ): Promise<JsonObject> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs <= 0
          ? null
          : setTimeout(() => {
              this.#pending.delete(id);
              // The spec forbids cancelling initialize; the stop that follows ends it anyway.
              if (method !== 'initialize') {
                this.#peer.notify('notifications/cancelled', { requestId: id, reason: 'timeout' });
              }
              reject(
                new RequestFailed(`${method} got no answer within ${timeoutMs} ms`, 'timeout'),
              );
            }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      onSent?.(id);
      wire.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Stops waiting for an own request (its answer is then dropped) and cancels it upstream. */
  abandon(id: number, reason: string): void {
    const request = this.#pending.get(id);
    if (request === undefined) return;
    this.#pending.delete(id);
    if (request.timer !== null) clearTimeout(request.timer);
    this.#peer.notify('notifications/cancelled', { requestId: id, reason });
    request.reject(new RequestFailed(`${request.method} abandoned: ${reason}`, 'error'));
  }

  /** The backend answered request `id`; false when it is not an own request in flight. */
  settle(id: number, { error, result }: JsonObject): boolean {
    const request = this.#pending.get(id);
    if (request === undefined) return false;
    this.#pending.delete(id);
    if (request.timer !== null) clearTimeout(request.timer);
    if (error === undefined || error === null) {
      request.resolve(isJsonObject(result) ? result : {});
      return true;
    }
    const text = isJsonObject(error)
      ? `${String(error.message)} (${String(error.code)})`
      : JSON.stringify(error);
    const code = isJsonObject(error) && typeof error.code === 'number' ? error.code : undefined;
    request.reject(new RequestFailed(`${request.method} failed: ${text}`, 'error', code));
    return true;
  }

  /** The child is gone: every request fails with `why`. */
  failAll(why: string): void {
    for (const request of this.#pending.values()) {
      if (request.timer !== null) clearTimeout(request.timer);
      request.reject(new RequestFailed(`${why} before answering ${request.method}`, 'exited'));
    }
    this.#pending.clear();
  }
}
