/**
 * Results and errors as the client's era expects them
 * (docs/architecture.md#results-and-errors-by-era). A result passes through as the backend's
 * JSON text whenever client and backend share an era (the hot path parses nothing); only a
 * crossing between eras is parsed and reshaped.
 *
 * Toward a stateless-era client: every result gets `resultType` and our `serverInfo` in
 * `_meta`; a read without caching hints gets a conservative one (`ttlMs: 0`, private);
 * "resource not found" is -32602 with `data.uri`.
 * Toward a session-era client: the stateless-only members go, a non-object
 * `structuredContent` (allowed only in 2026) is replaced by its JSON in a text block, and
 * "resource not found" is -32002.
 */
import { JsonRpcCode } from '../../shared/errors.js';
import { INPUT_REQUIRED, META, type Era } from '../../shared/eras.js';
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import type { CacheHint } from '../../shared/backend-catalog.js';
import type { WireError } from '../../shared/errors.js';

/**
 * Methods whose complete results carry caching hints in 2026-07-28
 * (https://modelcontextprotocol.io/specification/draft/server/utilities/caching).
 */
const CACHED_METHODS = new Set(['resources/read']);

/** The stateless result of a method the director answers or forwards. */
export function modernResult(
  resultJson: string,
  method: string,
  serverInfo: JsonObject,
): { json: string; inputRequired: boolean } {
  const result = JSON.parse(resultJson) as JsonObject;
  if (typeof result['resultType'] !== 'string') result['resultType'] = 'complete';
  const inputRequired = result['resultType'] === INPUT_REQUIRED;
  if (!inputRequired && CACHED_METHODS.has(method) && typeof result['ttlMs'] !== 'number') {
    // A legacy backend says nothing about caching: a read may differ per user and per call.
    result['ttlMs'] = 0;
    result['cacheScope'] = 'private';
  }
  const meta = result['_meta'];
  result['_meta'] = { ...(isJsonObject(meta) ? meta : {}), [META.serverInfo]: serverInfo };
  return { json: JSON.stringify(result), inputRequired };
}

/** A stateless backend's complete result, down-converted for a session-era client. */
export function legacyResult(result: JsonObject): string {
  const copy: JsonObject = { ...result };
  delete copy['resultType'];
  delete copy['ttlMs'];
  delete copy['cacheScope'];
  const structured = copy['structuredContent'];
  if (structured !== undefined && !isJsonObject(structured)) {
    delete copy['structuredContent'];
    const content = Array.isArray(copy['content']) ? copy['content'] : [];
    const hasText = content.some((block) => isJsonObject(block) && block['type'] === 'text');
    if (!hasText)
      copy['content'] = [...content, { type: 'text', text: JSON.stringify(structured) }];
  }
  return JSON.stringify(copy);
}

/** A backend's (or our own) error as the client's era names it. */
export function errorForEra(error: WireError, method: string, era: Era): WireError {
  const data = error.data;
  const uri = isJsonObject(data) ? data['uri'] : undefined;
  if (era === 'modern' && error.code === JsonRpcCode.ResourceNotFound) {
    return { ...error, code: JsonRpcCode.InvalidParams };
  }
  if (
    era === 'legacy' &&
    method === 'resources/read' &&
    error.code === JsonRpcCode.InvalidParams &&
    typeof uri === 'string'
  ) {
    return { ...error, code: JsonRpcCode.ResourceNotFound };
  }
  return error;
}

/**
 * A list page (already serialized by the catalog) as a stateless result: the page's own
 * members, then `resultType`, the caching hint and our identity, spliced in as text so the
 * page is not parsed again.
 */
export function modernListPage(pageJson: string, hint: CacheHint, serverInfo: JsonObject): string {
  const extra = JSON.stringify({
    resultType: 'complete',
    ttlMs: hint.ttlMs,
    cacheScope: hint.cacheScope,
    _meta: { [META.serverInfo]: serverInfo },
  });
  return `${pageJson.slice(0, -1)},${extra.slice(1)}`;
}
