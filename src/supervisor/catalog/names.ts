/**
 * Exposed names of tools and prompts: `<prefix>__<name>`, or the backend's own name when
 * the prefix is ''. claude.ai accepts `^[a-zA-Z0-9_-]{1,64}$`
 * (docs/architecture.md#catalog-names-and-profiles), so a longer name is shortened
 * deterministically, keeping its start and adding a hash of the whole; the catalog maps every
 * exposed name back to (server, original name).
 */
import { createHash } from 'node:crypto';

export const NAME_SEPARATOR = '__';
export const MAX_EXPOSED_NAME = 64;
const HASH_CHARS = 8;

export interface ExposedName {
  name: string;
  /** The readable `<prefix>__<name>` when `name` had to be shortened, else undefined. */
  fullName?: string;
}

export function exposeName(prefix: string, name: string): ExposedName {
  const full = prefix === '' ? name : `${prefix}${NAME_SEPARATOR}${name}`;
  if (full.length <= MAX_EXPOSED_NAME) return { name: full };
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_CHARS);
  return { name: `${full.slice(0, MAX_EXPOSED_NAME - HASH_CHARS - 1)}_${hash}`, fullName: full };
}
