/**
 * Rate-limit buckets every node of a cluster shares, kept in Redis (`cluster.redis`; README:
 * Running several daemons). A token's limit then holds for the fleet, not per node: each
 * counted request takes its tokens in one Lua script, atomically for the token's bucket and
 * the profile's, refilled from Redis's own clock so the nodes' clocks never disagree. This
 * is the per-request check of the usual global rate limiters (Envoy's rate limit service,
 * Kong's `redis` policy): exact, at one Redis round trip for the requests a limit applies to,
 * and nothing for the rest.
 *
 * When Redis cannot answer (down, unreachable, slower than `TIMEOUT_MS`), the request is
 * decided by the node's own buckets instead: the fleet then admits up to its node count
 * times the limit, and serves everyone, rather than refusing every request while Redis is
 * away. The first failure of an outage is logged, and so is the recovery.
 */
import { createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RateLimit } from '../../shared/config/types.js';
import { logger } from '../../shared/log.js';

const log = logger('redis');

/** How long a request may wait for Redis before its node decides alone. */
const TIMEOUT_MS = 250;

/**
 * KEYS: the buckets a request takes from, in order. ARGV: each bucket's perSecond and burst.
 * Refills every bucket by the time since its last request, then takes one token from each
 * when every one has a whole token, else from none. Returns the 1-based index of the bucket
 * with the longest wait and that wait in ms; {0, 0} when admitted. A bucket left idle long
 * enough to be full again expires, so Redis holds only the buckets in use.
 */
const TAKE_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local tokens = {}
local longest, which = 0, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local left = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  left = math.min(burst, left + math.max(0, now - at) * rate / 1000)
  tokens[i] = left
  if left < 1 then
    local wait = math.ceil((1 - left) * 1000 / rate)
    if wait > longest then longest, which = wait, i end
  end
end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local left = tokens[i]
  if which == 0 then left = left - 1 end
  redis.call('HSET', key, 'tokens', tostring(left), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
end
return {which, longest}
`;

/** One bucket a request takes from: its key (`token:<name>` or `profile:<name>`) and limit. */
export interface SharedBucket {
  key: string;
  limit: RateLimit;
}

/** What Redis decided: admitted, or which bucket (index into the request's list) refused and for how long. */
export type SharedVerdict = { admitted: true } | { admitted: false; index: number; waitMs: number };

type TakeCommand = (
  keyCount: number,
  ...keysAndArgs: Array<string | number>
) => Promise<[number, number]>;

export class SharedBuckets {
  readonly #redis: Redis;
  readonly #prefix: string;
  /** Whether the last request Redis was asked about got an answer. */
  #answering = true;

  /**
   * `clusterKey` names this fleet's keys: fleets with different keys can share one Redis
   * without sharing buckets, and the key itself never reaches Redis.
   */
  constructor(url: string, clusterKey: string) {
    const fleet = createHmac('sha256', clusterKey)
      .update('mcp-director redis')
      .digest('hex')
      .slice(0, 12);
    this.#prefix = `mcp-director:${fleet}:`;
    this.#redis = new Redis(url, {
      // A request never queues behind a reconnect: it fails at once and its node decides.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: TIMEOUT_MS,
      connectTimeout: 2000,
      // Commands of one turn go out in one write.
      enableAutoPipelining: true,
    });
    this.#redis.defineCommand('mcpDirectorTake', { lua: TAKE_SCRIPT });
    this.#redis.on('ready', () => log.info(`shared rate limits in Redis at ${redacted(url)}`));
    // ioredis reconnects by itself; without a listener an 'error' event would end the daemon.
    this.#redis.on('error', (error: Error) => this.#failed(error));
  }

  /**
   * Takes one token from each bucket, or from none; undefined when Redis could not decide
   * (the caller then decides with its own buckets).
   */
  async take(buckets: readonly SharedBucket[]): Promise<SharedVerdict | undefined> {
    const take = (this.#redis as unknown as { mcpDirectorTake: TakeCommand }).mcpDirectorTake;
    const keys = buckets.map((b) => this.#prefix + b.key);
    const args = buckets.flatMap((b) => [b.limit.perSecond, b.limit.burst]);
    try {
      const [index, waitMs] = await take.call(this.#redis, keys.length, ...keys, ...args);
      if (!this.#answering) log.info('Redis answers again: rate limits are shared again');
      this.#answering = true;
      return index === 0 ? { admitted: true } : { admitted: false, index: index - 1, waitMs };
    } catch (error) {
      this.#failed(error as Error);
      return undefined;
    }
  }

  #failed(error: Error): void {
    if (!this.#answering) return;
    this.#answering = false;
    log.warn(
      `Redis does not answer (${error.message}): each node applies the rate limits on its own until it does`,
    );
  }

  close(): void {
    this.#redis.disconnect();
  }
}

/** The URL without its password, for the log. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
