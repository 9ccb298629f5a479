/**
 * What a backend offers, as its shard sends it in `catalog` (src/shared/messages.ts): read by
 * the worker from the backend's lists (all pages) and merged by the supervisor's catalog.
 */
import type { Era } from './eras.js';
import type { JsonObject } from './json.js';

/**
 * A stateless-era server's caching hints for one list
 * (https://modelcontextprotocol.io/specification/draft/server/utilities/caching).
 */
export interface CacheHint {
  ttlMs: number;
  cacheScope: 'public' | 'private';
}

/** Everything a backend offers, as the backend listed it (all pages, fields untouched). */
export interface BackendCatalog {
  /** The era the director speaks with this backend (probed at each start). */
  era: Era;
  protocolVersion: string;
  serverInfo: JsonObject;
  capabilities: JsonObject;
  instructions?: string;
  tools: JsonObject[];
  prompts: JsonObject[];
  resources: JsonObject[];
  resourceTemplates: JsonObject[];
  /** The hints of each list a stateless-era backend gave (absent: no hint, or legacy). */
  cacheHints: Partial<Record<'tools' | 'prompts' | 'resources' | 'resourceTemplates', CacheHint>>;
}
