/**
 * The MCP-over-Streamable-HTTP client side the load driver needs, on undici: the session
 * handshake, request bodies and headers, and the check that decides whether a response
 * counts as a successful call. Kept apart from the driver so the preflight (main thread)
 * and the load workers judge responses the same way.
 */
import type { Dispatcher } from 'undici';

export const PROTOCOL_VERSION = '2025-11-25';
export const ACCEPT = 'application/json, text/event-stream';

export interface McpSession {
  /** Absent when the server is stateless. */
  sessionId: string | undefined;
  /** Headers every request after initialize sends (flat name/value array, undici's fast path). */
  headers: string[];
}

/** The JSON text of one `tools/call` request; only the id varies, so the rest is prebuilt. */
export function toolCallBodyFactory(tool: string, args: unknown): (id: number) => string {
  const prefix = '{"jsonrpc":"2.0","id":';
  const suffix = `,"method":"tools/call","params":${JSON.stringify({ name: tool, arguments: args })}}`;
  return (id) => prefix + id + suffix;
}

export function sessionHeaders(sessionId: string | undefined): string[] {
  const headers = [
    'content-type',
    'application/json',
    'accept',
    ACCEPT,
    'mcp-protocol-version',
    PROTOCOL_VERSION,
  ];
  if (sessionId !== undefined) headers.push('mcp-session-id', sessionId);
  return headers;
}

export interface PostResult {
  status: number;
  contentType: string;
  sessionId: string | undefined;
  body: string;
}

export async function post(
  dispatcher: Dispatcher,
  path: string,
  headers: string[],
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const response = await dispatcher.request({
    path,
    method: 'POST',
    headers,
    body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    contentType: headerValue(response.headers['content-type']),
    sessionId: optionalHeader(response.headers['mcp-session-id']),
    body: text,
  };
}

/** The `initialize` request a benchmark client opens its session with. */
export function initializeBody(clientName: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: clientName, version: '0.1.0' },
    },
  });
}

/** initialize → (session id) → notifications/initialized, as a client must before calling. */
export async function openSession(
  dispatcher: Dispatcher,
  path: string,
  timeoutMs: number,
  clientName: string,
): Promise<McpSession> {
  const initialize = initializeBody(clientName);
  const init = await post(
    dispatcher,
    path,
    ['content-type', 'application/json', 'accept', ACCEPT],
    initialize,
    timeoutMs,
  );
  const verdict = judgeResponse(init.status, init.contentType, init.body, 0);
  if (verdict !== null) throw new Error(`initialize failed: ${verdict}: ${clip(init.body)}`);

  const headers = sessionHeaders(init.sessionId);
  const initialized = await post(
    dispatcher,
    path,
    headers,
    '{"jsonrpc":"2.0","method":"notifications/initialized"}',
    timeoutMs,
  );
  if (initialized.status < 200 || initialized.status > 299) {
    throw new Error(
      `notifications/initialized answered HTTP ${initialized.status}: ${clip(initialized.body)}`,
    );
  }
  return { sessionId: init.sessionId, headers };
}

/**
 * Why a response is not a successful answer to request `id`, or null when it is: HTTP 200
 * and a JSON-RPC response (plain JSON or the matching `data:` of an SSE stream) with a
 * `result` and the right id. Reasons are short and stable so they can be counted.
 */
export function judgeResponse(
  status: number,
  contentType: string,
  body: string,
  id: number,
): string | null {
  if (status !== 200) return `HTTP ${status}`;
  const message = contentType.startsWith('text/event-stream')
    ? findSseResponse(body, id)
    : parseJson(body);
  if (message === undefined) return 'unparsable body';
  if (typeof message !== 'object' || message === null) return 'not a JSON-RPC response';
  const response = message as { id?: unknown; result?: unknown; error?: { code?: unknown } };
  if (response.id !== id) return 'wrong id';
  if (response.error !== undefined) return `JSON-RPC error ${String(response.error.code)}`;
  if (response.result === undefined) return 'no result';
  return null;
}

/**
 * The JSON-RPC response for `id` in an SSE body. A stream may carry notifications before
 * the response, and an event's data may span several `data:` lines (joined with \n).
 */
export function findSseResponse(body: string, id: number): unknown {
  let last: unknown;
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data: string[] = [];
    for (const line of event.split(/\r?\n/)) {
      if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
    if (data.length === 0) continue;
    const message = parseJson(data.join('\n'));
    if (message === undefined) continue;
    last = message;
    if (
      typeof message === 'object' &&
      message !== null &&
      (message as { id?: unknown }).id === id
    ) {
      return message;
    }
  }
  return last;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function headerValue(value: string | string[] | undefined): string {
  if (Array.isArray(value)) return value[0] ?? '';
  return value ?? '';
}

function optionalHeader(value: string | string[] | undefined): string | undefined {
  const text = headerValue(value);
  return text === '' ? undefined : text;
}

export function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
