/**
 * MCP over raw HTTP, for sending what no SDK client would: malformed bodies, odd headers,
 * hostile names. Bodies are strings so a test controls every byte.
 */

export const ACCEPT_BOTH = 'application/json, text/event-stream';
export const MODERN_VERSION = '2026-07-28';

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC message in the body (JSON, or the last `data:` of an SSE body). */
  message:
    | { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: unknown } }
    | undefined;
}

export async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<RawAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers },
    body,
    ...(signal === undefined ? {} : { signal }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, message: messageOf(text) };
}

function messageOf(text: string): RawAnswer['message'] {
  const data = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .filter((line) => line !== '');
  const candidate = data.length > 0 ? data[data.length - 1] : text;
  try {
    const value = JSON.parse(candidate as string) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as RawAnswer['message'])
      : undefined;
  } catch {
    return undefined;
  }
}

/** A session-era `initialize` request body. */
export function initializeBody(clientName = 'raw', protocolVersion = '2025-11-25', id = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: clientName, version: '1' } },
  });
}

/** A session-era session: initialize + initialized; returns its headers for later posts. */
export async function rawSession(
  url: string,
  protocolVersion = '2025-11-25',
  extraHeaders: Record<string, string> = {},
): Promise<Record<string, string>> {
  const init = await rawPost(url, initializeBody('raw', protocolVersion, 0), extraHeaders);
  const id = init.headers.get('mcp-session-id');
  if (init.status !== 200 || id === null)
    throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const headers = {
    ...extraHeaders,
    'mcp-session-id': id,
    'mcp-protocol-version': protocolVersion,
  };
  await rawPost(url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', headers);
  return headers;
}

/** A 2026-07-28 request: the `_meta` envelope in the body and the headers that mirror it. */
export function modernRequest(
  id: unknown,
  method: string,
  params: Record<string, unknown> = {},
): { body: string; headers: Record<string, string> } {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const headers: Record<string, string> = {
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
  };
  const name = method === 'resources/read' ? params['uri'] : params['name'];
  if (typeof name === 'string' && method !== 'prompts/list') headers['mcp-name'] = name;
  return {
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }),
    headers,
  };
}

/** `{"a":{"a":…1…}}` nested `depth` levels, as text (building it as a value would be slow). */
export function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{"a":1' + '}'.repeat(depth);
}

/** The resident set size of a process, in MiB (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}
