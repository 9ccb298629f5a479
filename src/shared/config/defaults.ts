/**
 * Every default of the config in one place (docs/architecture.md#config-flows-one-way, after
 * piscina's kDefaultOptions), plus the config used when there is no file at all.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { deepFreeze } from './deep-freeze.js';
import type { DirectorConfig, ProfileConfig, ServerConfig } from './types.js';

export const CONFIG_DEFAULTS = deepFreeze({
  /** Loopback only: the daemon runs local programs on behalf of whoever can reach it. */
  listen: { host: '127.0.0.1', port: 8765 },
  analytics: { enabled: true, retentionDays: 30, maxSizeMB: 1024 },
  maxBodyBytes: 4 * 1024 * 1024,
  pageSize: 100,
  allowedOrigins: [] as string[],
  sessionIdleMs: 30 * 60 * 1000,
  server: {
    timeoutMs: 60_000,
    disabled: false,
    share: 'global' as const,
    start: 'eager' as const,
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
  },
  limits: {
    // Structured clone (the thread hop) overflows its stack at ~3,500 levels and
    // JSON.stringify at ~4,500 on Node 20 (README "Limits and safety"); real MCP payloads
    // stay far below.
    maxJsonDepth: 256,
    maxSessions: 10_000,
    maxBackendMessageBytes: 32 * 1024 * 1024,
    maxStderrBytes: 64 * 1024,
    maxConcurrentCallsPerServer: 256,
    maxQueuedCallsPerServer: 1024,
    maxOwnInstancesPerServer: 256,
    replayBufferBytes: 1024 * 1024,
    streamQueueBytes: 8 * 1024 * 1024,
    shutdownDrainMs: 10_000,
    startWaitMs: 30_000,
  },
});

/** The profile `/mcp` serves when the config defines none of that name. */
export const DEFAULT_PROFILE = 'default';

/** A profile that sees every one of `servers` and everything they offer. */
export function unrestrictedProfile(name: string, servers: readonly string[]): ProfileConfig {
  return {
    name,
    description: 'Every server, every tool',
    servers: [...servers],
    tools: { allow: null, deny: [], rename: {} },
    prompts: { allow: null, deny: [], rename: {} },
    resources: { allow: null, deny: [] },
    toolSurface: 'full',
    restricted: false,
    rateLimit: null,
  };
}

/** `source` of a config that came from no file. */
export const EMBEDDED_SOURCE = '<embedded defaults>';

/** Names the config file when `--config` is not given. */
export const CONFIG_PATH_ENV = 'MCP_DIRECTOR_CONFIG';

/** The home folder as the given environment sees it (tests pass a fake HOME). */
export function homeDir(env: NodeJS.ProcessEnv): string {
  return env['HOME'] || os.homedir();
}

/** XDG base directories count only when absolute; the spec says to ignore relative ones. */
function xdgDir(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  return value && path.isAbsolute(value) ? value : path.join(homeDir(env), fallback);
}

/** `$XDG_CONFIG_HOME/mcp-director/config.json`, else `~/.config/mcp-director/config.json`. */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return path.join(xdgDir(env, 'XDG_CONFIG_HOME', '.config'), 'mcp-director', 'config.json');
}

/**
 * The key that encrypts stored sign-ins (shared/credentials/credential-store.ts), kept apart
 * from them: `$XDG_CONFIG_HOME/mcp-director/credentials.key`, else under `~/.config`.
 */
export function defaultCredentialKeyPath(env: NodeJS.ProcessEnv): string {
  return path.join(xdgDir(env, 'XDG_CONFIG_HOME', '.config'), 'mcp-director', 'credentials.key');
}

/** `$XDG_DATA_HOME/mcp-director`, else `~/.local/share/mcp-director`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return path.join(xdgDir(env, 'XDG_DATA_HOME', path.join('.local', 'share')), 'mcp-director');
}

/**
 * One shard per backend up to the core count less one, which the supervisor thread needs:
 * a shard with no backend would idle, and more busy threads than cores only adds context
 * switches (on 2 cores, 10 backends: one shard served 1.12× the calls of two at 0.79× the
 * CPU per call, and the second shard's isolate costs ~20 MiB; docs/architecture.md#memory).
 * At least one, so a config without servers still starts.
 */
export function defaultWorkers(enabledServers: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, enabledServers));
}

/** The compiled demo MCP server (src/demo/demo-server.ts), found relative to this module. */
export function demoServerPath(): string {
  return fileURLToPath(new URL('../../demo/demo-server.js', import.meta.url));
}

/**
 * The config used when no file exists: one `demo` backend run with this very Node binary, so
 * `mcp-director serve` works out of the box. Relative paths resolve against process.cwd().
 */
export function embeddedDefaultConfig(env: NodeJS.ProcessEnv = process.env): DirectorConfig {
  const demo: ServerConfig = {
    transport: 'stdio',
    id: 'demo',
    command: process.execPath,
    args: [demoServerPath()],
    env: {},
    cwd: process.cwd(),
    prefix: 'demo',
    timeoutMs: CONFIG_DEFAULTS.server.timeoutMs,
    share: CONFIG_DEFAULTS.server.share,
    start: CONFIG_DEFAULTS.server.start,
    idleStopMs: CONFIG_DEFAULTS.server.idleStopMs,
    initializeTimeoutMs: CONFIG_DEFAULTS.server.initializeTimeoutMs,
  };
  return deepFreeze({
    source: EMBEDDED_SOURCE,
    servers: [demo],
    listen: { ...CONFIG_DEFAULTS.listen },
    workers: defaultWorkers(1),
    dataDir: defaultDataDir(env),
    analytics: { ...CONFIG_DEFAULTS.analytics },
    telemetry: { otlp: null },
    maxBodyBytes: CONFIG_DEFAULTS.maxBodyBytes,
    pageSize: CONFIG_DEFAULTS.pageSize,
    allowedOrigins: [...CONFIG_DEFAULTS.allowedOrigins],
    sessionIdleMs: CONFIG_DEFAULTS.sessionIdleMs,
    profiles: { [DEFAULT_PROFILE]: unrestrictedProfile(DEFAULT_PROFILE, [demo.id]) },
    tokens: [],
    requireToken: false,
    oauth: null,
    cluster: null,
    projectRoots: [homeDir(env)],
    projects: [],
    limits: { ...CONFIG_DEFAULTS.limits },
  });
}
