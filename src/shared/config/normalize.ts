/**
 * A validated config file → the `DirectorConfig` the rest of the code consumes: defaults
 * filled (defaults.ts), `${VAR}` expanded, paths made absolute, disabled servers dropped.
 * Problems found here (unset variables, a prefix that would contain `__`) are collected,
 * not thrown, so they are reported together with the schema's.
 */
import path from 'node:path';

import { CONFIG_DEFAULTS, defaultDataDir, defaultWorkers, homeDir } from './defaults.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import type { ConfigFile, ServerEntry } from './schema.js';
import type { DirectorConfig, ServerConfig } from './types.js';

export interface NormalizeContext {
  /** Kept as `DirectorConfig.source`. */
  source: string;
  /** Relative `cwd` and `dataDir` resolve against this folder: the config file's. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /**
   * Server ids in file order. Object key order puts integer-like keys ("1", "42") first, and
   * config order decides name clashes, so the order is taken from the parse tree.
   */
  serverOrder?: readonly string[] | undefined;
}

export function normalizeConfig(
  file: ConfigFile,
  context: NormalizeContext,
): { config: DirectorConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const entries = file.mcpServers ?? {};
  const order = context.serverOrder?.filter((id) => Object.hasOwn(entries, id));
  const servers: ServerConfig[] = [];
  for (const id of order ?? Object.keys(entries)) {
    const entry = entries[id];
    // A server is often disabled because its variables are not set here: skip it whole.
    if (entry === undefined || entry.disabled === true) continue;
    servers.push(normalizeServer(id, entry, context, problems));
  }
  const defaults = CONFIG_DEFAULTS;
  const config: DirectorConfig = {
    source: context.source,
    servers,
    listen: {
      host: file.listen?.host ?? defaults.listen.host,
      port: file.listen?.port ?? defaults.listen.port,
    },
    workers: file.workers ?? defaultWorkers(servers.length),
    dataDir:
      file.dataDir === undefined
        ? defaultDataDir(context.env)
        : resolvePath(file.dataDir, context.baseDir, context.env),
    analytics: { enabled: file.analytics?.enabled ?? defaults.analytics.enabled },
    maxBodyBytes: file.maxBodyBytes ?? defaults.maxBodyBytes,
    pageSize: file.pageSize ?? defaults.pageSize,
    // Compared with the Origin header, which is always in URL.origin's canonical form.
    allowedOrigins: [...new Set((file.allowedOrigins ?? []).map((o) => new URL(o).origin))],
    sessionIdleMs: file.sessionIdleMs ?? defaults.sessionIdleMs,
  };
  return { config, problems };
}

function normalizeServer(
  id: string,
  entry: ServerEntry,
  context: NormalizeContext,
  problems: ConfigProblem[],
): ServerConfig {
  const at = (...rest: (string | number)[]): string => formatPath(['mcpServers', id, ...rest]);
  const expand = (text: string, where: string): string =>
    expandVariables(text, context.env, (name) =>
      problems.push({
        path: where,
        message: `\${${name}} is not set in the environment; set it or give a default: \${${name}:-default}`,
      }),
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
    return { ...common, transport: 'http', httpTransport, url, headers };
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
    cwd:
      entry.cwd === undefined
        ? context.baseDir
        : resolvePath(expand(entry.cwd, at('cwd')), context.baseDir, context.env),
  };
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands `${VAR}` and `${VAR:-default}` as POSIX shells do: the default also replaces a
 * variable set to "". Anything else containing `$` is left as written. `onUnset` is told once
 * of each variable that is unset and has no default; it expands to "".
 */
export function expandVariables(
  text: string,
  env: NodeJS.ProcessEnv,
  onUnset: (name: string) => void,
): string {
  const reported = new Set<string>();
  return text.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined && !reported.has(name)) {
      reported.add(name);
      onUnset(name);
    }
    return value ?? '';
  });
}

/** `~` and `~/x` mean the home folder (no shell expands them in JSON); relative → `baseDir`. */
export function resolvePath(value: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (value === '~') return homeDir(env);
  if (value.startsWith('~/')) return path.join(homeDir(env), value.slice(2));
  return path.resolve(baseDir, value);
}
