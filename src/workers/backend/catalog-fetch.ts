/**
 * Reads a backend's lists to the end: every page, following `nextCursor` until it is
 * absent (`""` is a valid cursor, absence means the end:
 * https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination). Items
 * are kept exactly as the backend sent them; the supervisor namespaces and filters them.
 */
import { isJsonObject, type JsonObject } from '../../shared/json.js';
import type { BackendCatalog, CacheHint } from '../../shared/backend-catalog.js';

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

export interface ListSpec {
  method: string;
  /** The capability that must be declared for the list to exist. */
  capability: 'tools' | 'prompts' | 'resources';
}

export const LISTS: Record<ListKind, ListSpec> = {
  tools: { method: 'tools/list', capability: 'tools' },
  prompts: { method: 'prompts/list', capability: 'prompts' },
  resources: { method: 'resources/list', capability: 'resources' },
  resourceTemplates: { method: 'resources/templates/list', capability: 'resources' },
};

export const LIST_KINDS = Object.keys(LISTS) as ListKind[];

/** The list kinds a `notifications/<x>/list_changed` asks to re-read. */
export const LIST_CHANGED: ReadonlyMap<string, readonly ListKind[]> = new Map([
  ['notifications/tools/list_changed', ['tools']],
  ['notifications/prompts/list_changed', ['prompts']],
  // There is no separate notification for templates; a resource change may touch both.
  ['notifications/resources/list_changed', ['resources', 'resourceTemplates']],
]);

/** A server that loops on one cursor must not hang the start. */
const MAX_PAGES = 10_000;

export type Requester = (method: string, params: JsonObject) => Promise<JsonObject>;

export interface PageProblem {
  kind: ListKind;
  message: string;
}

export interface ListOutcome {
  items: JsonObject[];
  /** The caching hint of the first page (stateless-era servers give one on every page). */
  hint?: CacheHint;
}

/** Fetches every page of one list; reports a cursor loop or runaway paging to `warn`. */
export async function listAll(
  request: Requester,
  kind: ListKind,
  warn: (problem: PageProblem) => void,
): Promise<ListOutcome> {
  const { method } = LISTS[kind];
  const outcome: ListOutcome = { items: [] };
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await request(method, cursor === undefined ? {} : { cursor });
    if (page === 0) {
      const hint = cacheHintOf(result);
      if (hint !== undefined) outcome.hint = hint;
    }
    const pageItems = result[kind];
    if (Array.isArray(pageItems)) {
      for (const item of pageItems) if (isJsonObject(item)) outcome.items.push(item);
    }
    const next = result['nextCursor'];
    if (typeof next !== 'string') return outcome;
    if (seen.has(next)) {
      warn({ kind, message: `${method} returned cursor '${next}' twice; stopped paging there` });
      return outcome;
    }
    seen.add(next);
    cursor = next;
  }
  warn({ kind, message: `${method} still had pages after ${MAX_PAGES}; stopped paging there` });
  return outcome;
}

/**
 * A result's `ttlMs`/`cacheScope`, if it carries a valid pair
 * (https://modelcontextprotocol.io/specification/draft/server/utilities/caching).
 */
export function cacheHintOf(result: JsonObject): CacheHint | undefined {
  const { ttlMs, cacheScope } = result;
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 0) return undefined;
  if (cacheScope !== 'public' && cacheScope !== 'private') return undefined;
  return { ttlMs, cacheScope };
}

/** Whether the server declared the capability a list needs. */
export function declares(capabilities: JsonObject, kind: ListKind): boolean {
  return isJsonObject(capabilities[LISTS[kind].capability]);
}

export function emptyCatalog(): BackendCatalog {
  return {
    era: 'legacy',
    protocolVersion: '',
    serverInfo: {},
    capabilities: {},
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    cacheHints: {},
  };
}
