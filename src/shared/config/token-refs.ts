/**
 * `${token.NAME}` in a `share: "identity"` server's `headers` (remote) or `env` (stdio): the
 * value the calling token gives under `tokens.<name>.secrets.NAME` (README: Credentials per
 * user). Each identity's own instance gets its token's values; the server's shared instance,
 * which lists the tools, runs with those entries left out, so it never holds a user's secret.
 *
 * Normalizing keeps the references as written (`${VAR}` expansion leaves them alone) and
 * puts each token's referenced values in the server's `tokenValues`; the worker that starts
 * an identity's instance fills them in here.
 */
import type { ServerConfig } from './types.js';

const TOKEN_REF = /\$\{token\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const HAS_TOKEN_REF = /\$\{token\.[A-Za-z_][A-Za-z0-9_]*\}/;

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

/** The shared instance's config: every entry with a reference left out. */
export function withoutTokenRefs(server: ServerConfig): ServerConfig {
  if (server.tokenValues === undefined) return server;
  const kept = Object.entries(entriesOf(server)).filter(([, value]) => !HAS_TOKEN_REF.test(value));
  return withEntries(server, Object.fromEntries(kept));
}

/**
 * An identity's own config, its token's values filled in; or the names its token does not
 * give (an OAuth user's identity gives none).
 */
export function forIdentity(
  server: ServerConfig,
  identity: string,
): { ok: true; config: ServerConfig } | { ok: false; missing: string[] } {
  const table = server.tokenValues;
  if (table === undefined) return { ok: true, config: server };
  const values = Object.hasOwn(table, identity) ? table[identity] : undefined;
  const missing = [...tokenRefsOf(server).keys()].filter(
    (name) => values === undefined || !Object.hasOwn(values, name),
  );
  if (missing.length > 0 || values === undefined) return { ok: false, missing };
  const filled = Object.fromEntries(
    Object.entries(entriesOf(server)).map(([key, value]) => [
      key,
      value.replace(TOKEN_REF, (_match, name: string) => values[name] as string),
    ]),
  );
  return { ok: true, config: withEntries(server, filled) };
}
