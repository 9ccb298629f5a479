/**
 * The two protocol eras (docs/architecture.md#protocol-eras) and the vocabulary of the
 * stateless one, shared by the ingress (clients of either era) and the workers (backends of
 * either era).
 *
 * - legacy: 2024-11-05 … 2025-11-25: `initialize`, sessions, server-to-client requests.
 * - modern: 2026-07-28: no handshake; version, capabilities and client identity ride in
 *   every request's `_meta`; `server/discover`; `subscriptions/listen`; input-required
 *   results (MRTR) instead of server-to-client requests.
 */
import { isJsonObject, type JsonObject } from './json.js';

export type Era = 'legacy' | 'modern';

/** The stateless revisions the director speaks, newest first. */
export const MODERN_PROTOCOL_VERSIONS: readonly string[] = ['2026-07-28'];
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** The `_meta` keys the spec reserves for the request envelope and results. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/**
 * Error codes the 2026-07-28 revision defines
 * (https://modelcontextprotocol.io/specification/draft/basic, "Error Codes").
 */
export const ModernErrorCode = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/**
 * Codes a modern server answers with HTTP 400
 * (https://modelcontextprotocol.io/specification/draft/basic/transports/streamable-http).
 */
export const MODERN_BAD_REQUEST_CODES: ReadonlySet<number> = new Set([
  ModernErrorCode.HeaderMismatch,
  ModernErrorCode.MissingRequiredClientCapability,
  ModernErrorCode.UnsupportedProtocolVersion,
]);

/** The protocol version a request's `_meta` claims, if it claims one (the era marker). */
export function claimedVersion(params: JsonObject): unknown {
  const meta = params['_meta'];
  return isJsonObject(meta) ? meta[META.protocolVersion] : undefined;
}

/** Whether a request's `_meta` carries the modern envelope claim. */
export function claimsModern(params: JsonObject): boolean {
  return claimedVersion(params) !== undefined;
}

/** The result kinds of 2026-07-28 (`resultType`); extensions may add more (e.g. "task"). */
export const INPUT_REQUIRED = 'input_required';
