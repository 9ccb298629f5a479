/**
 * The JSON-RPC side of the connect shim: reading the client's lines (one message or a batch
 * per line), reading the daemon's messages back into single stdout lines, and building the
 * error responses the shim answers with itself.
 */
import type { JsonObject, JsonValue, RequestId } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import { JsonRpcCode } from '../../shared/errors.js';
import { claimedVersion } from '../../shared/eras.js';

/** One line from the client, ready to POST. */
export interface Outgoing {
  /** The body as sent: the client's own text, one message or a (2025-03-26) batch. */
  text: string;
  /** The requests in it that expect an answer: id → method. */
  requests: Map<RequestId, string>;
  /** The method of a single request or notification; undefined for responses and batches. */
  method: string | undefined;
  /** The params of a single request or notification. */
  params: JsonObject | undefined;
  /** The version a 2026-07-28 request claims in its `_meta` envelope (it has no session). */
  modernVersion: string | undefined;
}

export type ParsedLine =
  { ok: true; message: Outgoing; value: JsonObject | JsonValue[] } | { ok: false; reply: string };

/** Reads one stdin line. A line that is not a JSON-RPC message gets the answer to write. */
export function parseClientLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return {
      ok: false,
      reply: errorLine(null, {
        code: JsonRpcCode.ParseError,
        message: `Parse error: a line on stdin is not JSON (${(error as Error).message})`,
      }),
    };
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 || !items.every(isJsonObject)) {
    const id = isJsonObject(value) ? idOf(value) : undefined;
    return {
      ok: false,
      reply: errorLine(id ?? null, {
        code: JsonRpcCode.InvalidRequest,
        message: 'Invalid Request: a line on stdin must be a JSON-RPC message object',
      }),
    };
  }
  const requests = new Map<RequestId, string>();
  for (const item of items) {
    const id = idOf(item);
    if (id !== undefined && typeof item['method'] === 'string') requests.set(id, item['method']);
  }
  const single = Array.isArray(value) ? undefined : (value as JsonObject);
  const method = typeof single?.['method'] === 'string' ? single['method'] : undefined;
  const params = isJsonObject(single?.['params']) ? single['params'] : undefined;
  const claimed = params === undefined ? undefined : claimedVersion(params);
  return {
    ok: true,
    value: value as JsonObject | JsonValue[],
    message: {
      text: line,
      requests,
      method,
      params,
      modernVersion: method !== undefined && typeof claimed === 'string' ? claimed : undefined,
    },
  };
}

/** The message built from an object of our own (the replayed handshake). */
export function outgoingOf(value: JsonObject): Outgoing {
  const parsed = parseClientLine(JSON.stringify(value));
  if (!parsed.ok) throw new Error('a message of our own is not valid JSON-RPC');
  return parsed.message;
}

/** One message from the daemon: the stdout line for it, and its parsed value. */
export interface Inbound {
  line: string;
  value: JsonValue;
}

/**
 * Reads a JSON body or an event's data. Stdio framing allows no newline inside a message,
 * so data that holds one (pretty-printed JSON) is written again compactly.
 */
export function parseInbound(data: string): Inbound | undefined {
  let value: JsonValue;
  try {
    value = JSON.parse(data) as JsonValue;
  } catch {
    return undefined;
  }
  return { value, line: /[\r\n]/.test(data) ? JSON.stringify(value) : data };
}

/** The ids of the responses in a message (one response, or a batch answer). */
export function responseIds(value: JsonValue): RequestId[] {
  const items = Array.isArray(value) ? value : [value];
  const ids: RequestId[] = [];
  for (const item of items) {
    if (!isJsonObject(item) || item['method'] !== undefined) continue;
    const id = idOf(item);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

/** A JSON-RPC error response, as one line. */
export function errorLine(id: RequestId | null, error: WireError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/** The JSON-RPC error inside an HTTP error body, if the body is one. */
export function bodyError(text: string): WireError | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = isJsonObject(value) ? value['error'] : undefined;
  if (!isJsonObject(error)) return undefined;
  const { code, message, data } = error;
  if (typeof code !== 'number' || typeof message !== 'string') return undefined;
  return data === undefined ? { code, message } : { code, message, data };
}

function idOf(message: JsonObject): RequestId | undefined {
  const id = message['id'];
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}
