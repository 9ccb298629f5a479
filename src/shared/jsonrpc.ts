/**
 * JSON-RPC frames as text. Results from backends arrive already serialized by the worker,
 * so a response is spliced together rather than built as an object and stringified again.
 */
import type { JsonObject, RequestId } from './json.js';
import { ExactNumber, idJson, isJsonObject } from './json.js';
import { nestsDeeperThan, numericIdTexts } from './json-text.js';
import { JsonRpcCode, rpcError, type WireError } from './errors.js';

export function resultFrame(id: RequestId, resultJson: string): string {
  return `{"jsonrpc":"2.0","id":${idJson(id)},"result":${resultJson}}`;
}

export function errorFrame(id: RequestId | null, error: WireError): string {
  return `{"jsonrpc":"2.0","id":${idJson(id)},"error":${JSON.stringify(error)}}`;
}

export function notificationFrame(method: string, params: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}

/**
 * Parses one message (or batch) as received; `what` names it in the error ('body', 'line').
 * Text nested deeper than `maxDepth` is refused before parsing (README "Limits and safety").
 */
export function parseMessage(
  text: string,
  what: string,
  maxDepth: number,
): { ok: true; value: unknown } | { ok: false; error: WireError } {
  if (nestsDeeperThan(text, maxDepth)) {
    const reason = `Invalid Request: the ${what} nests deeper than ${maxDepth} levels, the limit ("limits.maxJsonDepth" in the config)`;
    return { ok: false, error: rpcError(JsonRpcCode.InvalidRequest, reason) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = `Parse error: the ${what} is not valid JSON (${(error as Error).message})`;
    return { ok: false, error: rpcError(JsonRpcCode.ParseError, reason) };
  }
  keepExactIds(text, value);
  return { ok: true, value };
}

/** Replaces numeric ids JSON.parse rounded (beyond 2^53) by their source text. */
function keepExactIds(text: string, value: unknown): void {
  const messages = Array.isArray(value) ? value : [value];
  const inexact = (m: unknown): m is Record<string, unknown> =>
    isJsonObject(m) && typeof m['id'] === 'number' && !Number.isSafeInteger(m['id']);
  if (!messages.some(inexact)) return;
  const texts = numericIdTexts(text);
  messages.forEach((message, index) => {
    const source = texts[index];
    if (inexact(message) && source !== undefined) message['id'] = new ExactNumber(source);
  });
}

/** The error for a message `classify` found invalid, with its reason. */
export function invalidRequest(reason: string): WireError {
  return rpcError(JsonRpcCode.InvalidRequest, `Invalid Request: ${reason}`);
}

/** The shape of one incoming JSON-RPC message, classified. */
export type IncomingMessage =
  | { kind: 'request'; id: RequestId; method: string; params: JsonObject }
  | { kind: 'notification'; method: string; params: JsonObject }
  | { kind: 'response'; id: RequestId; message: JsonObject }
  | { kind: 'invalid'; id: RequestId | null; reason: string };

export function classify(value: unknown): IncomingMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', id: null, reason: 'a JSON-RPC message must be a JSON object' };
  }
  const message = value as Record<string, unknown>;
  const id = message['id'];
  const validId =
    typeof id === 'string' ||
    (typeof id === 'number' && Number.isFinite(id)) ||
    id instanceof ExactNumber;
  if (message['jsonrpc'] !== '2.0') {
    return {
      kind: 'invalid',
      id: validId ? (id as RequestId) : null,
      reason: 'the "jsonrpc" member must be exactly "2.0"',
    };
  }
  const method = message['method'];
  if (method === undefined) {
    if (validId && ('result' in message || 'error' in message)) {
      return { kind: 'response', id: id as RequestId, message: message as JsonObject };
    }
    return {
      kind: 'invalid',
      id: validId ? (id as RequestId) : null,
      reason: 'the message has no "method" and is not a response',
    };
  }
  if (typeof method !== 'string')
    return {
      kind: 'invalid',
      id: validId ? (id as RequestId) : null,
      reason: '"method" must be a string',
    };
  const rawParams = message['params'];
  if (
    rawParams !== undefined &&
    (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams))
  ) {
    return {
      kind: 'invalid',
      id: validId ? (id as RequestId) : null,
      reason: '"params" must be an object',
    };
  }
  const params = (rawParams ?? {}) as JsonObject;
  if (id === undefined) return { kind: 'notification', method, params };
  if (!validId) return { kind: 'invalid', id: null, reason: '"id" must be a string or a number' };
  return { kind: 'request', id: id as RequestId, method, params };
}
