/**
 * The MCP-over-HTTP client side of the benchmark, on undici (boundaries.json): the session
 * handshake, the headers every later request carries, and a plain request-response exchange
 * for the preflight. Streamable HTTP of the session era; a stateless server simply sends no
 * session id.
 */
import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import { clip, judgeHttpResponse, parseJson, responseInEventStream } from '../workload.js';
import type { Exchange } from '../preflight.js';

export const PROTOCOL_VERSION = '2025-11-25';
export const ACCEPT = 'application/json, text/event-stream';

export interface McpSession {
  /** Absent when the server is stateless. */
  sessionId: string | undefined;
  /** Headers every request after initialize sends (flat name/value pairs, undici's fast path). */
  headers: string[];
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
  return {
    status: response.statusCode,
    contentType: headerValue(response.headers['content-type']),
    sessionId: headerValue(response.headers['mcp-session-id']) || undefined,
    body: await response.body.text(),
  };
}

/** The `initialize` request (id 0) a benchmark client opens its session with. */
export function initializeBody(clientName: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: clientName, version: '1' },
    },
  });
}

/** The headers of every request after initialize (flat name/value pairs). */
export function sessionHeaders(sessionId: string | undefined): string[] {
  const headers = [
    'content-type',
    'application/json',
    'accept',
    ACCEPT,
    'mcp-protocol-version',
    PROTOCOL_VERSION,
  ];
  if (sessionId !== undefined && sessionId !== '') headers.push('mcp-session-id', sessionId);
  return headers;
}

/** initialize → (session id) → notifications/initialized, as a client must before calling. */
export async function openSession(
  dispatcher: Dispatcher,
  path: string,
  timeoutMs: number,
  clientName: string,
): Promise<McpSession> {
  const init = await post(
    dispatcher,
    path,
    ['content-type', 'application/json', 'accept', ACCEPT],
    initializeBody(clientName),
    timeoutMs,
  );
  const verdict = judgeHttpResponse(init.status, init.contentType, init.body, 0);
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

/** A session on its own connection, for the preflight; `close()` ends both. */
export async function openExchange(
  url: URL,
  timeoutMs: number,
): Promise<{ exchange: Exchange; close: () => Promise<void> }> {
  const client = new Client(url.origin);
  const path = url.pathname + url.search;
  try {
    const session = await openSession(client, path, timeoutMs, 'mcp-director-bench');
    const exchange: Exchange = async (body, id) => {
      const response = await post(client, path, session.headers, body, timeoutMs);
      if (response.status !== 200) {
        throw new Error(`HTTP ${response.status}: ${clip(response.body)}`);
      }
      return response.contentType.startsWith('text/event-stream')
        ? responseInEventStream(response.body, id)
        : parseJson(response.body);
    };
    return { exchange, close: () => client.destroy() };
  } catch (error) {
    await client.destroy();
    throw error;
  }
}

export function headerValue(value: string | string[] | undefined): string {
  if (Array.isArray(value)) return value[0] ?? '';
  return value ?? '';
}
