/**
 * A validated config file → the `DirectorConfig` the rest of the code consumes: defaults
 * filled (defaults.ts), `${VAR}` expanded, paths made absolute, disabled servers dropped.
 * Problems found here (unset variables, a prefix that would contain `__`) are collected,
 * not thrown, so they are reported together with the schema's.
 *
 * Each part has its module: servers (normalize-servers.ts), profiles, tokens and OAuth
 * (normalize-access.ts), the cluster (normalize-cluster.ts), `${VAR}` and paths (expand.ts).
 */
import path from 'node:path';

import { CONFIG_DEFAULTS, defaultDataDir, defaultWorkers, homeDir } from './defaults.js';
import { expandVariables, realOrSame, resolvePath } from './expand.js';
import { normalizeOauth, normalizeProfiles, normalizeTokens } from './normalize-access.js';
import { normalizeCluster } from './normalize-cluster.js';
import type { NormalizeContext } from './normalize-context.js';
import { attachTokenValues, checkProjectRefs, normalizeServer } from './normalize-servers.js';
import { ownServer } from './project-files.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import type { ConfigFile } from './schema.js';
import type { DirectorConfig, ProfileConfig, ProjectConfig, ServerConfig } from './types.js';

export type { NormalizeContext } from './normalize-context.js';

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
  const { projectRoots, projects, projectServers } = normalizeProjects(
    file,
    profiles,
    context,
    problems,
  );
  // The config's own project servers may act as each token too (a project's file may not).
  const found: ConfigProblem[] = [];
  attachTokenValues(projectServers, tokens, found);
  for (const problem of found) problems.push(atProjectServer(problem, projectServers));
  const config: DirectorConfig = {
    source: context.source,
    // A project's own servers are in no profile: its sessions' views add them.
    servers: [...servers, ...projectServers],
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
    projectRoots,
    projects,
    limits: withDefaults(defaults.limits, file.limits),
  };
  return { config, problems };
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

/** Where projects may be, the projects the file names, and the servers it gives them. */
function normalizeProjects(
  file: ConfigFile,
  profiles: Record<string, ProfileConfig>,
  context: NormalizeContext,
  problems: ConfigProblem[],
): { projectRoots: string[]; projects: ProjectConfig[]; projectServers: ServerConfig[] } {
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
  const projectServers: ServerConfig[] = [];
  const projects = Object.entries(file.projects ?? {}).map(([name, entry]) => {
    const profile = entry.profile ?? null;
    if (profile !== null && !Object.hasOwn(profiles, profile)) {
      problems.push({
        path: formatPath(['projects', name, 'profile']),
        message: `expected a profile defined under "profiles" (${Object.keys(profiles).join(', ')}), found ${JSON.stringify(profile)}`,
      });
    }
    const dir = folder(entry.dir, ['projects', name, 'dir']);
    // Matched by its real folder, as a session's project is; one not there yet as written.
    const real = realOrSame(dir);
    for (const [id, server] of Object.entries(entry.servers ?? {})) {
      const at = ['projects', name, 'servers', id];
      const owner = { project: { name }, dir: real, file: context.source, env: context.env };
      const own = ownServer(id, server, owner, problems, at);
      if (own !== undefined) projectServers.push(own);
    }
    return { name, dir, profile, mcpJson: entry.mcpJson === true };
  });
  return { projectRoots, projects, projectServers };
}

/** A problem `attachTokenValues` names under `mcpServers`, named where the server is. */
function atProjectServer(problem: ConfigProblem, servers: readonly ServerConfig[]): ConfigProblem {
  for (const server of servers) {
    const named = formatPath(['mcpServers', server.id]);
    if (server.ownedBy === undefined || !problem.path.startsWith(named)) continue;
    const at = formatPath(['projects', server.ownedBy.project, 'servers', server.prefix]);
    return { ...problem, path: at + problem.path.slice(named.length) };
  }
  return problem;
}
