/**
 * A validated config file → the `DirectorConfig` the rest of the code consumes: defaults
 * filled (defaults.ts), `${VAR}` expanded, paths made absolute, disabled servers dropped.
 * Problems found here (unset variables, a prefix that would contain `__`) are collected,
 * not thrown, so they are reported together with the schema's.
 */
import path from 'node:path';

import {
  CONFIG_DEFAULTS,
  DEFAULT_PROFILE,
  defaultDataDir,
  defaultWorkers,
  homeDir,
  unrestrictedProfile,
} from './defaults.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import { MIN_TOKEN_LENGTH } from './schema.js';
import { hasTokenRef, tokenRefsOf } from './token-refs.js';
import { PROJECT_VARIABLES, hasProjectRef, projectRefsOf } from './project-refs.js';
import type { ConfigFile, ServerEntry } from './schema.js';
import type {
  ClusterConfig,
  DirectorConfig,
  OauthIngressConfig,
  ProfileConfig,
  ProjectConfig,
  ServerConfig,
  TokenConfig,
  UpstreamAuthConfig,
} from './types.js';

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
  // Every id the file defines, also entries with problems of their own (reported already).
  const defined = context.serverOrder ?? Object.keys(file.mcpServers ?? {});
  const profiles = normalizeProfiles(file, defined, servers, problems);
  const tokens = normalizeTokens(file, profiles, context, problems);
  attachTokenValues(servers, tokens, problems);
  checkProjectRefs(servers, problems);
  if (file.requireToken === true && tokens.length === 0 && file.oauth === undefined) {
    problems.push({
      path: 'requireToken',
      message:
        'expected at least one entry under "tokens" (or "oauth") when requireToken is true (otherwise no request could be served); add a token or set requireToken to false',
    });
  }
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
    analytics: {
      enabled: file.analytics?.enabled ?? defaults.analytics.enabled,
      retentionDays: file.analytics?.retentionDays ?? defaults.analytics.retentionDays,
      maxSizeMB: file.analytics?.maxSizeMB ?? defaults.analytics.maxSizeMB,
    },
    telemetry: {
      otlp:
        file.telemetry?.otlp === undefined
          ? null
          : {
              endpoint: file.telemetry.otlp.endpoint.replace(/\/+$/, ''),
              headers: { ...file.telemetry.otlp.headers },
              serviceName: file.telemetry.otlp.serviceName ?? 'mcp-director',
            },
    },
    maxBodyBytes: file.maxBodyBytes ?? defaults.maxBodyBytes,
    pageSize: file.pageSize ?? defaults.pageSize,
    // Compared with the Origin header, which is always in URL.origin's canonical form.
    allowedOrigins: [...new Set((file.allowedOrigins ?? []).map((o) => new URL(o).origin))],
    sessionIdleMs: file.sessionIdleMs ?? defaults.sessionIdleMs,
    profiles,
    tokens,
    requireToken: file.requireToken ?? false,
    oauth: normalizeOauth(file, profiles, problems),
    cluster: normalizeCluster(file, context, problems),
    ...normalizeProjects(file, profiles, context, problems),
    limits: withDefaults(defaults.limits, file.limits),
  };
  return { config, problems };
}

/**
 * Profiles with their server lists resolved against the enabled servers. A profile may name
 * a disabled server (it is then simply absent), never one the file does not define.
 */
function normalizeProfiles(
  file: ConfigFile,
  defined: readonly string[],
  enabled: readonly ServerConfig[],
  problems: ConfigProblem[],
): Record<string, ProfileConfig> {
  const enabledIds = enabled.map((s) => s.id);
  const profiles: Record<string, ProfileConfig> = {
    [DEFAULT_PROFILE]: unrestrictedProfile(DEFAULT_PROFILE, enabledIds),
  };
  for (const [name, entry] of Object.entries(file.profiles ?? {})) {
    (entry.servers ?? []).forEach((id, index) => {
      if (!defined.includes(id)) {
        problems.push({
          path: formatPath(['profiles', name, 'servers', index]),
          message: `expected a server id defined under "mcpServers" (${defined.join(', ') || 'none is'}), found ${JSON.stringify(id)}`,
        });
      }
    });
    const listed = entry.servers === undefined ? undefined : new Set(entry.servers);
    const servers = listed === undefined ? enabledIds : enabledIds.filter((id) => listed.has(id));
    const rules = (kind: 'tools' | 'prompts') => ({
      allow: entry[kind]?.allow ?? null,
      deny: entry[kind]?.deny ?? [],
      rename: { ...entry[kind]?.rename },
    });
    const profile: ProfileConfig = {
      name,
      description: entry.description ?? '',
      servers,
      tools: rules('tools'),
      prompts: rules('prompts'),
      resources: { allow: entry.resources?.allow ?? null, deny: entry.resources?.deny ?? [] },
      toolSurface: entry.toolSurface ?? 'full',
      restricted: false,
      rateLimit: rateLimitOf(entry.rateLimit),
    };
    profile.restricted =
      servers.length < enabledIds.length ||
      profile.toolSurface === 'meta' ||
      [profile.tools, profile.prompts, profile.resources].some(
        (r) => r.allow !== null || r.deny.length > 0,
      ) ||
      Object.keys(profile.tools.rename).length + Object.keys(profile.prompts.rename).length > 0;
    profiles[name] = profile;
  }
  return profiles;
}

function normalizeTokens(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  context: NormalizeContext,
  problems: ConfigProblem[],
): TokenConfig[] {
  const tokens: TokenConfig[] = [];
  const owner = new Map<string, string>();
  for (const [name, entry] of Object.entries(file.tokens ?? {})) {
    const at = (key: string): string => formatPath(['tokens', name, key]);
    const before = problems.length;
    const token = expandVariables(entry.token, context.env, (variable) =>
      problems.push({
        path: at('token'),
        message: `\${${variable}} is not set in the environment; set it to the token`,
      }),
    );
    // The value is a secret: messages give its length, never its text.
    if (problems.length === before && token.length < MIN_TOKEN_LENGTH) {
      problems.push({
        path: at('token'),
        message: `expected a token of at least ${MIN_TOKEN_LENGTH} characters (e.g. from \`openssl rand -hex 32\`), found one of ${token.length}`,
      });
    }
    const first = owner.get(token);
    if (first !== undefined && token !== '') {
      problems.push({
        path: at('token'),
        message: `expected a token of its own, found the same one as tokens.${first}; a token selects one profile`,
      });
    }
    owner.set(token, name);
    const profile = entry.profile ?? DEFAULT_PROFILE;
    if (profiles[profile] === undefined) {
      problems.push({
        path: at('profile'),
        message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
      });
    }
    // Built with fromEntries: a name like "__proto__" stays a plain own key.
    const secrets = Object.fromEntries(
      Object.entries(entry.secrets ?? {}).map(([key, value]) => [
        key,
        expandVariables(value, context.env, (variable) =>
          problems.push({
            path: formatPath(['tokens', name, 'secrets', key]),
            message: `\${${variable}} is not set in the environment; set it to the value`,
          }),
        ),
      ]),
    );
    tokens.push({
      name,
      token,
      profile,
      admin: entry.admin ?? false,
      rateLimit: rateLimitOf(entry.rateLimit),
      secrets,
    });
  }
  return tokens;
}

/**
 * Gives each server that uses `${token.NAME}` the values of every token that has them
 * (shared/config/token-refs.ts); only a `share: "identity"` server may use them, since only
 * its instances belong to one token.
 */
function attachTokenValues(
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

/** A node gives its balancer this long to see /readyz turn 503 before it closes its socket. */
const DRAIN_NOTICE_MS = 2000;
/** A node id: what session ids start with and balancers match on. */
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,15}$/;
/** The cluster key signs session ids and seals requestState: long enough not to be guessed. */
const MIN_CLUSTER_KEY_LENGTH = 32;

/** The cluster settings, `${VAR}` expanded; null when the file has none. */
function normalizeCluster(
  file: ConfigFile,
  context: NormalizeContext,
  problems: ConfigProblem[],
): ClusterConfig | null {
  const cluster = file.cluster;
  if (cluster === undefined) return null;
  const expand = (value: string, key: string): string =>
    expandVariables(value, context.env, (variable) =>
      problems.push({
        path: formatPath(['cluster', key]),
        message: `\${${variable}} is not set in the environment; set it on every node`,
      }),
    );
  const before = problems.length;
  const node = expand(cluster.node, 'node');
  const badNode = (path: string, found: string): void => {
    problems.push({
      path,
      message: `expected a node id of 1 to 16 characters from a-z 0-9 - (not starting with -), found ${JSON.stringify(found)}`,
    });
  };
  if (problems.length === before && !NODE_ID.test(node)) badNode('cluster.node', node);
  const keyBefore = problems.length;
  const key = expand(cluster.key, 'key');
  // The key is a secret: messages give its length, never its text.
  if (problems.length === keyBefore && key.length < MIN_CLUSTER_KEY_LENGTH) {
    problems.push({
      path: 'cluster.key',
      message: `expected a key of at least ${MIN_CLUSTER_KEY_LENGTH} characters (e.g. from \`openssl rand -hex 32\`), found one of ${key.length}`,
    });
  }
  const nodes: Record<string, string> = {};
  for (const [id, url] of Object.entries(cluster.nodes ?? {})) {
    if (!NODE_ID.test(id)) badNode(formatPath(['cluster', 'nodes', id]), id);
    nodes[id] = url.replace(/\/+$/, '');
  }
  const redis = cluster.redis === undefined ? null : expand(cluster.redis, 'redis');
  if (redis !== null && !isRedisUrl(redis)) {
    // The URL may hold a password: the message shows its scheme only.
    problems.push({
      path: 'cluster.redis',
      message: `expected a redis:// or rediss:// URL, found one starting ${JSON.stringify(redis.split(':')[0])}`,
    });
  }
  const url = cluster.url === undefined ? null : expand(cluster.url, 'url').replace(/\/+$/, '');
  if (url !== null && !/^https?:\/\/[^\s/]+/.test(url)) {
    problems.push({
      path: 'cluster.url',
      message: `expected an http:// or https:// base URL once expanded, found ${JSON.stringify(url)}`,
    });
  }
  return {
    node,
    key,
    nodes,
    drainNoticeMs: cluster.drainNoticeMs ?? DRAIN_NOTICE_MS,
    url,
    redis,
  };
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The ingress OAuth settings with their defaults; null when the file has none. */
function normalizeOauth(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  problems: ConfigProblem[],
): OauthIngressConfig | null {
  const oauth = file.oauth;
  if (oauth === undefined) return null;
  const known = (profile: string, path: (string | number)[]): void => {
    if (profiles[profile] !== undefined) return;
    problems.push({
      path: formatPath(['oauth', ...path]),
      message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
    });
  };
  oauth.profiles?.forEach((rule, index) => known(rule.profile, ['profiles', index, 'profile']));
  if (oauth.defaultProfile !== undefined) known(oauth.defaultProfile, ['defaultProfile']);
  return {
    issuer: oauth.issuer,
    jwksUri: oauth.jwksUri ?? null,
    resource: oauth.resource?.replace(/\/+$/, '') ?? null,
    audience: oauth.audience ?? null,
    scopes: [...(oauth.scopes ?? [])],
    profiles: (oauth.profiles ?? []).map((rule) => ({
      claim: rule.claim,
      value: rule.value,
      profile: rule.profile,
      admin: rule.admin ?? false,
    })),
    defaultProfile: oauth.defaultProfile ?? null,
  };
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

/** `defaults` with every key `given` sets (an absent key keeps its default). */
function withDefaults<T extends object>(
  defaults: T,
  given: { [K in keyof T]?: T[K] | undefined } | undefined,
): T {
  const merged = { ...defaults };
  for (const key of Object.keys(given ?? {}) as Array<keyof T>) {
    const value = given?.[key];
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** A burst defaults to one second's worth of calls (at least one call). */
function rateLimitOf(entry: { perSecond: number; burst?: number | undefined } | undefined) {
  if (entry === undefined) return null;
  return {
    perSecond: entry.perSecond,
    burst: entry.burst ?? Math.max(1, Math.ceil(entry.perSecond)),
  };
}

function normalizeServer(
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
const PROJECT_IDLE_STOP_MS = 10 * 60_000;

/**
 * `${projectDir}` and `${projectName}` are a session's (project-refs.ts): only a `share:
 * "project"` server has one instance per project to fill them into, and only a process has
 * a command, args, env and cwd to take them.
 */
function checkProjectRefs(servers: readonly ServerConfig[], problems: ConfigProblem[]): void {
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

/** Where projects may be, and the projects the file names. */
function normalizeProjects(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  context: NormalizeContext,
  problems: ConfigProblem[],
): { projectRoots: string[]; projects: ProjectConfig[] } {
  const folder = (value: string, at: (string | number)[]): string =>
    resolvePath(
      expandVariables(value, context.env, (name) =>
        problems.push({
          path: formatPath(at),
          message: `\${${name}} is not set in the environment; set it to a folder`,
        }),
      ),
      context.baseDir,
      context.env,
    );
  // The home folder by default, unless it is `/` (a service account's): then none, until set.
  const home = homeDir(context.env);
  const projectRoots =
    file.projectRoots === undefined
      ? [home].filter((dir) => path.resolve(dir) !== path.parse(path.resolve(dir)).root)
      : file.projectRoots.map((root, i) => folder(root, ['projectRoots', i]));
  const projects = Object.entries(file.projects ?? {}).map(([name, entry]) => {
    const profile = entry.profile ?? null;
    if (profile !== null && !Object.hasOwn(profiles, profile)) {
      problems.push({
        path: formatPath(['projects', name, 'profile']),
        message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
      });
    }
    return { name, dir: folder(entry.dir, ['projects', name, 'dir']), profile };
  });
  return { projectRoots, projects };
}

const NO_NAMES: ReadonlySet<string> = new Set();
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
  /** Names left as written (a session's, filled in later: project-refs.ts). */
  keep: ReadonlySet<string> = NO_NAMES,
): string {
  const reported = new Set<string>();
  return text.replace(VARIABLE, (match, name: string, fallback: string | undefined) => {
    if (keep.has(name)) return match;
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
