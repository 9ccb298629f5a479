/**
 * The `mcpServers` entries → `ServerConfig`s: `${VAR}` expanded, URLs and commands checked,
 * folders resolved; then the `${token.NAME}` and `${projectDir}` references each server uses
 * are checked against its `share` (token-refs.ts, project-refs.ts), and a server that uses
 * `${token.NAME}` gets each token's values.
 */
import path from 'node:path';

import { CONFIG_DEFAULTS, homeDir } from './defaults.js';
import { expandVariables, resolvePath } from './expand.js';
import type { NormalizeContext } from './normalize-context.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import { hasTokenRef, tokenRefsOf } from './token-refs.js';
import { PROJECT_VARIABLES, hasProjectRef, projectRefsOf } from './project-refs.js';
import type { ServerEntry } from './schema.js';
import type { ServerConfig, TokenConfig, UpstreamAuthConfig } from './types.js';

/**
 * Gives each server that uses `${token.NAME}` the values of every token that has them
 * (shared/config/token-refs.ts); only a `share: "identity"` server may use them, since only
 * its instances belong to one token.
 */
export function attachTokenValues(
  servers: ServerConfig[],
  tokens: TokenConfig[],
  problems: ConfigProblem[],
): void {
  for (const server of servers) {
    // Where a reference would be taken literally: reported, not passed on.
    const elsewhere: [(string | number)[], string][] =
      server.transport === 'http'
        ? [[['url'], server.url]]
        : [
            [['command'], server.command],
            [['cwd'], server.cwd],
            ...server.args.map((arg, i): [(string | number)[], string] => [['args', i], arg]),
          ];
    for (const [where, text] of elsewhere) {
      if (!hasTokenRef(text)) continue;
      problems.push({
        path: formatPath(['mcpServers', server.id, ...where]),
        message: `\${token.…} works only in "env" (a process) or "headers" (a remote server), where each token's own instance gets its value`,
      });
    }
    const refs = tokenRefsOf(server);
    if (refs.size === 0) continue;
    if (server.share !== 'identity') {
      const [name, key] = [...refs][0] as [string, string];
      problems.push({
        path: formatPath([
          'mcpServers',
          server.id,
          server.transport === 'http' ? 'headers' : 'env',
          key,
        ]),
        message: `\${token.${name}} takes the calling token's value, so the server needs "share": "identity" (an instance per token); found "share": "${server.share}"`,
      });
      continue;
    }
    // Built with fromEntries: a name like "__proto__" stays a plain own key.
    server.tokenValues = Object.fromEntries(
      tokens.flatMap((token) => {
        const given = [...refs.keys()].filter((name) => Object.hasOwn(token.secrets, name));
        if (given.length === 0) return [];
        return [[token.name, Object.fromEntries(given.map((name) => [name, token.secrets[name]]))]];
      }),
    ) as Record<string, Record<string, string>>;
  }
}

/** A remote server's sign-in settings; static `Authorization` headers turn 'auto' off. */
function upstreamAuthOf(
  entry: ServerEntry['auth'],
  headers: Record<string, string>,
  expandSecret: (value: string) => string,
): UpstreamAuthConfig {
  if (entry === undefined || typeof entry === 'string') {
    const hasAuthorization = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    const mode = entry ?? (hasAuthorization ? 'none' : 'auto');
    return { mode, scopes: [] };
  }
  return {
    mode: 'oauth',
    scopes: [...(entry.scopes ?? [])],
    ...(entry.clientId === undefined ? {} : { clientId: entry.clientId }),
    ...(entry.clientSecret === undefined ? {} : { clientSecret: expandSecret(entry.clientSecret) }),
    ...(entry.clientMetadataUrl === undefined
      ? {}
      : { clientMetadataUrl: entry.clientMetadataUrl }),
  };
}

export function normalizeServer(
  id: string,
  entry: ServerEntry,
  context: NormalizeContext,
  problems: ConfigProblem[],
): ServerConfig {
  const at = (...rest: (string | number)[]): string => formatPath(['mcpServers', id, ...rest]);
  const expand = (text: string, where: string): string =>
    expandVariables(
      text,
      context.env,
      (name) =>
        problems.push({
          path: where,
          message: `\${${name}} is not set in the environment; set it or give a default: \${${name}:-default}`,
        }),
      PROJECT_VARIABLES,
    );
  if (entry.prefix === undefined && id.includes('__')) {
    problems.push({
      path: at(),
      message:
        'the id contains "__" (the namespace separator), so it cannot be the prefix; set "prefix"',
    });
  }
  const common = {
    id,
    prefix: entry.prefix ?? id,
    timeoutMs: entry.timeoutMs ?? CONFIG_DEFAULTS.server.timeoutMs,
    share: entry.share ?? CONFIG_DEFAULTS.server.share,
    start: entry.start ?? CONFIG_DEFAULTS.server.start,
    // A project's instance that nobody uses any more stops (README: Projects).
    idleStopMs:
      entry.idleStopMs ??
      (entry.share === 'project' ? PROJECT_IDLE_STOP_MS : CONFIG_DEFAULTS.server.idleStopMs),
    ...(entry.recordPayloads === true && { recordPayloads: true as const }),
    initializeTimeoutMs: entry.initializeTimeoutMs ?? CONFIG_DEFAULTS.server.initializeTimeoutMs,
  };
  if (entry.url !== undefined) {
    const problemsBefore = problems.length;
    const url = expand(entry.url, at('url'));
    const unset = problems.length > problemsBefore; // reported already
    if (!unset && !(/^https?:\/\//.test(url) && URL.canParse(url))) {
      const expanded = url === entry.url ? '' : `, which expands to ${JSON.stringify(url)}`;
      problems.push({
        path: at('url'),
        message: `expected an http:// or https:// URL, found ${JSON.stringify(entry.url)}${expanded}`,
      });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(entry.headers ?? {})) {
      headers[name] = expand(value, at('headers', name));
    }
    const httpTransport = entry.type === 'sse' ? 'sse' : 'auto';
    const auth = upstreamAuthOf(entry.auth, headers, (value) =>
      expand(value, at('auth', 'clientSecret')),
    );
    return { ...common, transport: 'http', httpTransport, url, headers, auth };
  }

  const problemsBefore = problems.length;
  const rawCommand = entry.command ?? '';
  const command = expand(rawCommand, at('command'));
  // An unset variable is reported already; this catches `${EMPTY}` and `${X:-}`.
  if (command === '' && problems.length === problemsBefore) {
    problems.push({
      path: at('command'),
      message: `expected a program to run, found ${JSON.stringify(rawCommand)}, which expands to ""`,
    });
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.env ?? {})) {
    env[name] = expand(value, at('env', name));
  }
  return {
    ...common,
    transport: 'stdio',
    command,
    args: (entry.args ?? []).map((arg, index) => expand(arg, at('args', index))),
    env,
    cwd: cwdOf(entry.cwd === undefined ? undefined : expand(entry.cwd, at('cwd')), context),
  };
}

/**
 * A server's folder: relative to the config's. One naming the project keeps its reference,
 * which each project fills in (project-refs.ts); `~/` and a relative start are resolved here.
 */
function cwdOf(cwd: string | undefined, context: NormalizeContext): string {
  if (cwd === undefined) return context.baseDir;
  if (!hasProjectRef(cwd) || /^\$\{projectDir\b/.test(cwd)) {
    return hasProjectRef(cwd) ? cwd : resolvePath(cwd, context.baseDir, context.env);
  }
  if (cwd === '~' || cwd.startsWith('~/')) return path.join(homeDir(context.env), cwd.slice(1));
  return path.isAbsolute(cwd) ? cwd : path.join(context.baseDir, cwd);
}

/** How long a project's instance may go without a call before it stops, unless `idleStopMs` says. */
export const PROJECT_IDLE_STOP_MS = 10 * 60_000;

/**
 * `${projectDir}` and `${projectName}` are a session's (project-refs.ts): only a `share:
 * "project"` server has one instance per project to fill them into, and only a process has
 * a command, args, env and cwd to take them.
 */
export function checkProjectRefs(
  servers: readonly ServerConfig[],
  problems: ConfigProblem[],
): void {
  for (const server of servers) {
    for (const [where, text] of projectRefsOf(server)) {
      const path = formatPath(['mcpServers', server.id, ...where]);
      const name =
        /projectName/.test(text) && !/projectDir/.test(text) ? 'projectName' : 'projectDir';
      if (server.transport === 'http') {
        problems.push({
          path,
          message: `\${${name}} works only in a process's "command", "args", "env" or "cwd" (a "share": "project" stdio server)`,
        });
      } else if (server.share !== 'project') {
        problems.push({
          path,
          message: `\${${name}} is the folder of the project a session works in, so the server needs "share": "project" (an instance per project); found "share": "${server.share}"`,
        });
      }
    }
  }
}
