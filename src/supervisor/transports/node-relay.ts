/**
 * Passes one request on to another node of the cluster, and its answer back (README: Running
 * several daemons): a 2026-07-28 retry of an input-required call lands on any node, but the
 * call waits, parked, on the node that sealed its `requestState`. The owner decides the
 * request itself (token, profile, identity) as if the client had sent it there; the answer,
 * one JSON body or an SSE stream, is copied back as it comes.
 *
 * A relayed request carries `X-Mcp-Director-Via`, and is never relayed again.
 */
import type { IncomingRequest } from '../ingress/http-message.js';
import type { Reply } from '../ingress/uws.js';
import { logger } from '../../shared/log.js';

const log = logger('cluster');

export const VIA_HEADER = 'x-mcp-director-via';

/** Headers that describe one hop, not the request: the relay makes its own. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'accept-encoding',
]);

/** Whether a request came from another node (and so must be answered here). */
export function isRelayed(request: IncomingRequest): boolean {
  return request.headers[VIA_HEADER] !== undefined;
}

/**
 * Sends `request` to the node at `baseUrl`; `unreachable` answers the client when that node
 * cannot be reached.
 */
export function relayToNode(
  request: IncomingRequest,
  reply: Reply,
  target: { baseUrl: string; via: string },
  unreachable: (why: string) => void,
): void {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_HEADERS.has(name)) headers.set(name, value);
  }
  headers.set(VIA_HEADER, target.via);
  const abort = new AbortController();
  reply.onAbort(() => abort.abort());
  const query = request.query === '' ? '' : `?${request.query}`;
  void (async () => {
    let response: Response;
    try {
      response = await fetch(`${target.baseUrl}${request.path}${query}`, {
        method: request.method,
        headers,
        body: request.body,
        signal: abort.signal,
      });
    } catch (error) {
      unreachable(error instanceof Error ? error.message : String(error));
      return;
    }
    const type = response.headers.get('content-type') ?? 'application/json';
    if (!type.includes('text/event-stream') || response.body === null) {
      reply.send(
        response.status,
        { 'Content-Type': type },
        Buffer.from(await response.arrayBuffer()),
      );
      return;
    }
    const stream = reply.stream({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
    });
    stream.onClose(() => abort.abort());
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body)
        stream.write(decoder.decode(chunk, { stream: true }));
    } catch {
      // The owner or the client went away: the stream ends here too.
    }
    stream.end();
  })().catch((error: unknown) => {
    log.warn(`relaying a request to ${target.baseUrl} failed: ${String(error)}`);
    reply.failed();
  });
}
