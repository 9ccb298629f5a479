/**
 * Server ids: clients accept any key ("Brave Search", "@acme/db"), the director only
 * SERVER_ID_PATTERN, because the id is also the default tool prefix and an analytics key.
 * Renaming is deterministic, so importing the same file twice finds the same ids again.
 */
import { isDeepStrictEqual } from 'node:util';

import { SERVER_ID_PATTERN } from '../../shared/config/server-schema.js';
import type { JsonObject } from '../../shared/json.js';

const MAX_ID_LENGTH = 32;

/**
 * A valid id for `name`: runs of other characters become "-", "__" (the namespace
 * separator, which an id used as prefix cannot contain) becomes "_", cut to 32 characters.
 */
export function sanitizeId(name: string): string {
  if (SERVER_ID_PATTERN.test(name) && !name.includes('__')) return name;
  const id = name
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/_{2,}/g, '_')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_ID_LENGTH)
    .replace(/-+$/, '');
  return id === '' ? 'server' : id;
}

export interface Named {
  name: string;
  origin: string;
  entry: JsonObject;
}

export type IdAssignment<T extends Named> =
  { item: T; id: string; renamed?: string | undefined } | { item: T; duplicateOf: string };

/**
 * An id for each entry, in order: its sanitized name, with "-2", "-3"… when an earlier entry
 * took that id with different settings. An entry identical to an earlier one of the same id
 * (the same server in several Claude Code projects) is reported as its duplicate.
 */
export function assignIds<T extends Named>(items: readonly T[]): IdAssignment<T>[] {
  const taken = new Map<string, T>();
  return items.map((item) => {
    const base = sanitizeId(item.name);
    let id = base;
    for (let n = 2; ; n++) {
      const holder = taken.get(id);
      if (holder === undefined) break;
      if (isDeepStrictEqual(holder.entry, item.entry)) return { item, duplicateOf: holder.origin };
      const suffix = `-${n}`;
      id = `${base.slice(0, MAX_ID_LENGTH - suffix.length)}${suffix}`;
    }
    taken.set(id, item);
    if (id === item.name) return { item, id };
    const why =
      id === base
        ? `ids are 1 to 32 of A-Z a-z 0-9 _ - without "__"`
        : `${JSON.stringify(taken.get(base)?.name ?? base)} came first with different settings`;
    return { item, id, renamed: why };
  });
}
