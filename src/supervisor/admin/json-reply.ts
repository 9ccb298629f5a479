/** A JSON answer of the daemon's API: never cached (it is live state). */
import type { Reply } from '../ingress/uws.js';

export function sendJson(
  reply: Reply,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  reply.json(status, JSON.stringify(body), { 'Cache-Control': 'no-store', ...headers });
}
