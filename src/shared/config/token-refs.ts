/**
 * `${token.NAME}` in a `share: "identity"` server's `headers` (remote) or `env` (stdio): the
 * value the calling token gives under `tokens.<name>.secrets.NAME` (README: Credentials per
 * user), or the default of `${token.NAME:-default}` when the token gives none. Each
 * identity's own instance gets its token's values; the server's shared instance, which lists
 * the tools, gets the defaults and leaves out entries without one, so it never holds a
 * user's secret.
 *
 * Normalizing expands `${VAR}` in defaults but keeps the references (their dot is no
 * variable name), and
 * puts each token's referenced values in the server's `tokenValues`; the worker that starts
 * an identity's instance fills them in here.
 */
import type { ServerConfig } from './types.js';

/** `${token.NAME}` or `${token.NAME:-default}` (the default already `${VAR}`-expanded). */
const TOKEN_REF = /\$\{token\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const HAS_TOKEN_REF = /\$\{token\.[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/;

/** Whether a config value uses `${token.…}`. */
export function hasTokenRef(text: string): boolean {
  return HAS_TOKEN_REF.test(text);
}

/** The entries of a server that may carry references: remote headers, a process's env. */
function entriesOf(server: ServerConfig): Record<string, string> {
  return server.transport === 'http' ? server.headers : server.env;
}

function withEntries(server: ServerConfig, entries: Record<string, string>): ServerConfig {
  return server.transport === 'http'
    ? { ...server, headers: entries }
    : { ...server, env: entries };
}

/** The names a server's entries reference, each once, with the first entry naming it. */
export function tokenRefsOf(server: ServerConfig): Map<string, string> {
  const refs = new Map<string, string>();
  for (const [key, value] of Object.entries(entriesOf(server))) {
    for (const match of value.matchAll(TOKEN_REF)) {
      const name = match[1] as string;
      if (!refs.has(name)) refs.set(name, key);
    }
  }
  return refs;
}

/**
 * Fills a server's references: each takes `valueOf(name)`, else its default. The entries
 * filled, and the names that had neither.
 */
function fill(
  server: ServerConfig,
  valueOf: (name: string) => string | undefined,
): { entries: [string, string][]; missing: Map<string, string[]> } {
  const missing = new Map<string, string[]>(); // entry key → names it lacks
  const entries = Object.entries(entriesOf(server)).map(([key, value]): [string, string] => [
    key,
    value.replace(TOKEN_REF, (_match, name: string, fallback: string | undefined) => {
      const filled = valueOf(name) ?? fallback;
      if (filled === undefined) missing.set(key, [...(missing.get(key) ?? []), name]);
      return filled ?? '';
    }),
  ]);
  return { entries, missing };
}

/**
 * The shared instance's config: references take their defaults, and an entry with a
 * reference that has none is left out.
 */
export function withoutTokenRefs(server: ServerConfig): ServerConfig {
  if (server.tokenValues === undefined) return server;
  const { entries, missing } = fill(server, () => undefined);
  // Nor does it carry the table: nothing of a user's reaches it.
  const shared = { ...server };
  delete shared.tokenValues;
  return withEntries(shared, Object.fromEntries(entries.filter(([key]) => !missing.has(key))));
}

/**
 * An identity's own config, its token's values (else the defaults) filled in; or the names
 * it has no value for (an OAuth user's identity gives none).
 */
export function forIdentity(
  server: ServerConfig,
  identity: string,
): { ok: true; config: ServerConfig } | { ok: false; missing: string[] } {
  const table = server.tokenValues;
  if (table === undefined) return { ok: true, config: server };
  const values = Object.hasOwn(table, identity) ? table[identity] : undefined;
  const { entries, missing } = fill(server, (name) =>
    values !== undefined && Object.hasOwn(values, name) ? values[name] : undefined,
  );
  if (missing.size > 0) return { ok: false, missing: [...new Set([...missing.values()].flat())] };
  return { ok: true, config: withEntries(server, Object.fromEntries(entries)) };
}
