/**
 * What changed between the running config and a newly loaded one (config hot reload,
 * docs/architecture.md#config-and-hot-reload): servers added, removed or changed, and which
 * other settings can take effect at once and which only at the next start. Pure; both configs
 * are normalized.
 */
import type { DirectorConfig, ServerConfig } from './types.js';

export interface ConfigDiff {
  /** Servers only in the new config, in its order. */
  added: ServerConfig[];
  /** Ids of servers only in the old config, in its order. */
  removed: string[];
  /** Servers in both whose normalized entries differ (new entry), in the new order. */
  changed: ServerConfig[];
  /**
   * Whether the servers kept from the old config appear in another order. Order decides
   * name collisions (the first server wins), so the catalog must be rebuilt.
   */
  reordered: boolean;
  /**
   * JSON paths of changed settings the daemon reads only at start ("listen.port",
   * "workers", …): they take effect after a restart.
   */
  needsRestart: string[];
  /** Other changed top-level settings ("profiles", "pageSize", …): they can apply live. */
  live: string[];
}

/**
 * Settings read once at start, and why. Objects are compared key by key, so the paths name
 * the leaf ("listen.port"). A new setting not listed here counts as live: add it here if
 * only a restart can apply it.
 */
const RESTART_SETTINGS: ReadonlySet<string> = new Set([
  'listen', // the HTTP listener is bound once
  // The shard count fixes which thread runs each server. Its default follows the number of
  // servers, so adding one to a file without "workers" reports it here too.
  'workers',
  'dataDir', // the analytics store (LMDB) of every thread is opened once
  'analytics', // the same: each thread opens (or not) its store at start
  'telemetry', // each shard loads (or not) its span exporter at start
  'maxBodyBytes', // handed to the HTTP listener when it starts
  'limits', // handed to the ingress, the sessions and every shard when they start
]);

/** `servers` is diffed entry by entry; `source` (where the config came from) is no setting. */
const IGNORED: ReadonlySet<string> = new Set(['source', 'servers']);

export function diffConfigs(previous: DirectorConfig, next: DirectorConfig): ConfigDiff {
  const diff: ConfigDiff = {
    ...diffServers(previous.servers, next.servers),
    needsRestart: [],
    live: [],
  };
  const before = previous as unknown as Record<string, unknown>;
  const after = next as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of [...keys].sort()) {
    if (IGNORED.has(key) || deepEqual(before[key], after[key])) continue;
    if (RESTART_SETTINGS.has(key))
      diff.needsRestart.push(...changedPaths(key, before[key], after[key]));
    else diff.live.push(key);
  }
  return diff;
}

function diffServers(
  previous: readonly ServerConfig[],
  next: readonly ServerConfig[],
): Pick<ConfigDiff, 'added' | 'removed' | 'changed' | 'reordered'> {
  const old = new Map(previous.map((server) => [server.id, server]));
  const ids = new Set(next.map((server) => server.id));
  const added: ServerConfig[] = [];
  const changed: ServerConfig[] = [];
  for (const server of next) {
    const before = old.get(server.id);
    if (before === undefined) added.push(server);
    else if (!deepEqual(before, server)) changed.push(server);
  }
  const removed = previous.filter((server) => !ids.has(server.id)).map((server) => server.id);
  const keptBefore = previous.filter((server) => ids.has(server.id)).map((server) => server.id);
  const keptAfter = next.filter((server) => old.has(server.id)).map((server) => server.id);
  const reordered = keptBefore.some((id, i) => keptAfter[i] !== id);
  return { added, removed, changed, reordered };
}

/** The leaf paths under `path` where two values differ; `path` itself for non-objects. */
function changedPaths(path: string, before: unknown, after: unknown): string[] {
  if (!isPlainObject(before) || !isPlainObject(after)) return [path];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((key) => !deepEqual(before[key], after[key]))
    .flatMap((key) => changedPaths(`${path}.${key}`, before[key], after[key]));
}

/**
 * Structural equality of JSON-like values: arrays in order, objects whatever their key
 * order, a key holding `undefined` the same as a missing one (as in JSON).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => deepEqual(item, b[i]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
