/**
 * JSON-RPC frames as text. Results from backends arrive already serialized by the worker,
 * so a response is spliced together rather than built as an object and stringified again.
 */
import type { JsonObject, RequestId } from '../shared/json.js';
import type { WireError } from '../shared/messages.js';
import { JsonRpcCode, rpcError } from '../shared/errors.js';

export function resultFrame(id: RequestId, resultJson: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${resultJson}}`;
}

export function errorFrame(id: RequestId | null, error: WireError): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

export function notificationFrame(method: string, params: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params });
}

/** Parses one message (or batch) as received; `what` names it in the error ('body', 'line'). */
export function parseMessage(
  text: string,
  what: string,
): { ok: true; value: unknown } | { ok: false; error: WireError } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const reason = `Parse error: the ${what} is not valid JSON (${(error as Error).message})`;
    return { ok: false, error: rpcError(JsonRpcCode.ParseError, reason) };
  }
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
  const validId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
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
