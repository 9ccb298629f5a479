/** Lists the server entries found under one key path of a client's parsed file. */
import { formatPath } from '../../shared/config/problems.js';
import type { JsonObject } from '../../shared/json.js';
import { isJsonObject } from '../../shared/json.js';
import type { SourceServer } from './types.js';

export function entriesAt(
  document: JsonObject,
  keys: readonly string[],
  extra: Pick<SourceServer, 'projectDir' | 'inputs'> = {},
): SourceServer[] {
  let node: unknown = document;
  for (const key of keys) node = isJsonObject(node) ? node[key] : undefined;
  if (!isJsonObject(node)) return [];
  return Object.entries(node).map(([name, raw]) => ({
    name,
    origin: formatPath([...keys, name]),
    raw,
    ...extra,
  }));
}
