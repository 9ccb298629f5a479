/**
 * The `cluster` section → `ClusterConfig`: `${VAR}` expanded (so every node can share one
 * file), the node id, key, Redis URL and base URL checked.
 */
import { expandVariables } from './expand.js';
import type { NormalizeContext } from './normalize-context.js';
import type { ConfigProblem } from './problems.js';
import { formatPath } from './problems.js';
import type { ConfigFile } from './schema.js';
import type { ClusterConfig } from './types.js';

/** A node gives its balancer this long to see /readyz turn 503 before it closes its socket. */
const DRAIN_NOTICE_MS = 2000;
/** A node id: what session ids start with and balancers match on. */
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,15}$/;
/** The cluster key signs session ids and seals requestState: long enough not to be guessed. */
const MIN_CLUSTER_KEY_LENGTH = 32;

/** The cluster settings, `${VAR}` expanded; null when the file has none. */
export function normalizeCluster(
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
