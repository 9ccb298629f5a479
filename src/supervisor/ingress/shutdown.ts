/**
 * Stopping without losing a call (SIGTERM/SIGINT, `Director.close`): the listener stops
 * accepting connections, requests that arrive on open connections get 503 and
 * SHUTTING_DOWN, and the calls in flight may finish up to the drain deadline; the rest are
 * then answered SHUTTING_DOWN (and cancelled upstream) before the sessions and the backends
 * are stopped. Messages that help a call in flight finish (a client's answer to a backend's
 * request, a cancellation, a resuming GET) are still taken while draining.
 *
 * A node of several (README: Running several daemons) first gives notice: `/readyz` turns
 * 503 while it still serves everything, for `cluster.drainNoticeMs`, so its balancer stops
 * sending it new requests before its socket closes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestId } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { Reply } from './uws.js';
import { errorFrame } from '../../shared/jsonrpc.js';

/** Whether the daemon is draining; read by every ingress for each new request. */
export class Drain {
  #draining = false;
  #noticed = false;

  get draining(): boolean {
    return this.#draining;
  }

  /** Whether a balancer should send new requests here (`/readyz`). */
  get ready(): boolean {
    return !this.#noticed && !this.#draining;
  }

  /** The stop is coming: not ready any more, still serving. */
  notice(): void {
    this.#noticed = true;
  }

  begin(): void {
    this.#draining = true;
  }
}

export function shuttingDown(detail: string): WireError {
  return directorError(DirectorErrorCode.ShuttingDown, `MCP Director is shutting down: ${detail}`);
}

/** A new request while draining: 503, and the connection is not kept for more. */
export function refuseWhileDraining(reply: Reply, id: RequestId | null): void {
  reply.json(503, errorFrame(id, shuttingDown('it takes no new requests')), {
    Connection: 'close',
  });
}

/** Whether a parsed body holds a request (a message with a method and an id), batch or not. */
export function carriesRequest(body: unknown): boolean {
  const items = Array.isArray(body) ? body : [body];
  return items.some(
    (item) =>
      typeof item === 'object' &&
      item !== null &&
      typeof (item as { method?: unknown }).method === 'string' &&
      (item as { id?: unknown }).id !== undefined,
  );
}

/** The id of a request body, for its error answer (null when there is none to name). */
export function requestIdOf(body: unknown): RequestId | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** How often the drain looks at the calls still in flight. */
const POLL_MS = 20;

/**
 * Waits until `inFlight()` is 0, `ms` have passed or `skip` is aborted (a second signal);
 * returns the calls still in flight then.
 */
export async function drainCalls(
  inFlight: () => number,
  ms: number,
  skip: AbortSignal | undefined,
): Promise<number> {
  const deadline = Date.now() + ms;
  while (inFlight() > 0 && Date.now() < deadline && skip?.aborted !== true) {
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now()))).catch(() => undefined);
  }
  return inFlight();
}
