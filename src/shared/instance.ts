/**
 * Each running daemon's instance id: a random id minted at start, put in the `_meta` of its
 * `initialize` and `server/discover` results. A shard compares a backend's results with its
 * own daemon's id, so a config entry that (directly, or through `mcp-director connect`)
 * points the daemon at itself is refused instead of aggregating itself without end.
 */
import { randomUUID } from 'node:crypto';

import { isJsonObject, type JsonObject } from './json.js';

/** The `_meta` key of the instance id (a reverse-DNS prefix, as the spec asks of `_meta`). */
export const INSTANCE_META_KEY = 'dev.mcp-director/instance';

export function newInstanceId(): string {
  return randomUUID();
}

/** The `_meta` member a daemon adds to its initialize and discover results. */
export function instanceMeta(instance: string): JsonObject {
  return { [INSTANCE_META_KEY]: instance };
}

/**
 * Whether a backend's initialize/discover result says it is the daemon `instance`: in its
 * `_meta`, or in `serverInfo._meta` (where a bridge that rebuilds the result might keep it).
 */
export function isInstance(result: JsonObject, instance: string): boolean {
  const meta = result['_meta'];
  if (isJsonObject(meta) && meta[INSTANCE_META_KEY] === instance) return true;
  const serverInfo = result['serverInfo'];
  const infoMeta = isJsonObject(serverInfo) ? serverInfo['_meta'] : undefined;
  return isJsonObject(infoMeta) && infoMeta[INSTANCE_META_KEY] === instance;
}
