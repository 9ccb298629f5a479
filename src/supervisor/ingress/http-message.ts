/**
 * The plain HTTP of the ingress, free of uWS: the request as every handler gets it, copied
 * out of uWS by the adapter (uws.ts), and the status line the adapter writes for a response.
 */

/** A request copied out of uWS: plain data, valid after the handler returns. */
export interface IncomingRequest {
  /** Upper case: GET, POST, DELETE … */
  method: string;
  path: string;
  query: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body (empty for GET); only read for methods that carry one. */
  body: Buffer;
  /** The second path segment under a mount that takes one (`/mcp/<segment>`), if any. */
  segment?: string;
}

const statusText: Record<number, string> = {
  200: '200 OK',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  406: '406 Not Acceptable',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return statusText[status] ?? `${status} Status`;
}
