/**
 * Rate-limit buckets every node of a cluster shares, kept in Redis (`cluster.redis`; README:
 * Running several daemons). A token's limit then holds for the fleet, not per node: each
 * counted request takes its tokens in one Lua script, atomically for the token's bucket and
 * the profile's, refilled from Redis's own clock so the nodes' clocks never disagree. This
 * is the per-request check of the usual global rate limiters (Envoy's rate limit service,
 * Kong's `redis` policy): exact, at one Redis round trip for the requests a limit applies to,
 * and nothing for the rest.
 *
 * When Redis cannot answer (redis.ts), the request is decided by the node's own
 * buckets instead: the fleet then admits up to its node count times the limit, and serves
 * everyone, rather than refusing every request while Redis is away.
 */
import type { Redis } from 'ioredis';
import type { RateLimit } from '../../shared/config/types.js';
import type { FleetRedis } from './redis.js';

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
  readonly #fleet: FleetRedis;

  constructor(fleet: FleetRedis) {
    this.#fleet = fleet;
    fleet.client.defineCommand('mcpDirectorTake', { lua: TAKE_SCRIPT });
  }

  /**
   * Takes one token from each bucket, or from none; undefined when Redis could not decide
   * (the caller then decides with its own buckets).
   */
  async take(buckets: readonly SharedBucket[]): Promise<SharedVerdict | undefined> {
    const redis = this.#fleet.client;
    const take = (redis as Redis & { mcpDirectorTake: TakeCommand }).mcpDirectorTake;
    const keys = buckets.map((b) => `${this.#fleet.prefix}rate:${b.key}`);
    const args = buckets.flatMap((b) => [b.limit.perSecond, b.limit.burst]);
    try {
      const answer: unknown = await take.call(redis, keys.length, ...keys, ...args);
      // Checked like any backend's answer: anything but the script's own shape decides nothing.
      const [index, waitMs] = Array.isArray(answer) ? (answer as unknown[]) : [];
      if (
        typeof index !== 'number' ||
        typeof waitMs !== 'number' ||
        !Number.isInteger(index) ||
        index < 0 ||
        index > buckets.length ||
        !(waitMs >= 0)
      ) {
        throw new Error('the rate-limit script answered in an unknown shape');
      }
      this.#fleet.answered();
      return index === 0 ? { admitted: true } : { admitted: false, index: index - 1, waitMs };
    } catch (error) {
      this.#fleet.failed(error as Error);
      return undefined;
    }
  }
}
