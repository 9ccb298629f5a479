/**
 * The nodes of a fleet find each other in Redis (`cluster.redis` with `cluster.url`; README:
 * Running several daemons), so a node's address need not be listed in every node's
 * `cluster.nodes`: a fleet can grow by starting a daemon. Every `HEARTBEAT_MS` a node
 * announces its base URL and reads back the live ones, in one Lua script that timestamps by
 * Redis's clock; a node not heard from for `MISSED_HEARTBEATS` beats is dropped, and one that
 * stops cleanly removes itself at once. What a node learns is only an address for
 * passing on a 2026-07-28 retry (cluster-node.ts); it is checked like any input.
 *
 * Without Redis answering, the last list read stays in use, and `cluster.nodes` always wins.
 */
import type { Redis } from 'ioredis';
import { logger } from '../../shared/log.js';
import type { FleetRedis } from './redis.js';

const log = logger('fleet');

const HEARTBEAT_MS = 2000;
/** Nodes read from Redis at most: what anyone able to write there adds stays bounded. */
const MAX_NODES = 256;
const MISSED_HEARTBEATS = 3;
/** A node id, as the config accepts one. */
const NODE_ID = /^[a-z0-9][a-z0-9-]{0,15}$/;

/**
 * KEYS: the sorted set of live nodes (score: last heartbeat, ms by Redis's clock), the hash
 * of their URLs. ARGV: this node's id and URL ('' to only read), and how old a heartbeat may
 * be. Drops the silent nodes, then returns the live ones as id, url, id, url, …
 */
const ANNOUNCE_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
local silent = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
for _, id in ipairs(silent) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local live = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  live[#live + 1] = id
  live[#live + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return live
`;

type AnnounceCommand = (
  keyCount: number,
  ...keysAndArgs: Array<string | number>
) => Promise<unknown>;

export class NodeRegistry {
  readonly #fleet: FleetRedis;
  readonly #node: string;
  readonly #url: string | null;
  readonly #keys: [string, string];
  /** The live nodes' base URLs, by id, as last read. */
  #known = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;

  /** `url`: this node's base URL as the others reach it; null: it only reads the list. */
  constructor(fleet: FleetRedis, node: string, url: string | null) {
    this.#fleet = fleet;
    this.#node = node;
    this.#url = url;
    this.#keys = [`${fleet.prefix}nodes`, `${fleet.prefix}node-urls`];
    fleet.client.defineCommand('mcpDirectorAnnounce', { lua: ANNOUNCE_SCRIPT });
    this.#timer = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#timer.unref();
    fleet.client.on('ready', () => void this.#beat());
  }

  /** A live node's base URL, as announced. */
  urlOf(node: string): string | undefined {
    return this.#known.get(node);
  }

  /** Every live node the registry knows, by id (this one's too, once announced). */
  nodes(): ReadonlyMap<string, string> {
    return this.#known;
  }

  async #beat(): Promise<void> {
    const redis = this.#fleet.client;
    const announce = (redis as Redis & { mcpDirectorAnnounce: AnnounceCommand })
      .mcpDirectorAnnounce;
    try {
      const live = await announce.call(
        redis,
        2,
        ...this.#keys,
        this.#node,
        this.#url ?? '',
        HEARTBEAT_MS * MISSED_HEARTBEATS,
      );
      this.#fleet.answered();
      this.#learn(live);
    } catch (error) {
      this.#fleet.failed(error as Error);
    }
  }

  /** Reads the script's answer, which anything that can write to Redis could have made. */
  #learn(live: unknown): void {
    if (!Array.isArray(live)) return;
    const known = new Map<string, string>();
    for (let i = 0; i + 1 < live.length && known.size < MAX_NODES; i += 2) {
      const [id, url] = [live[i], live[i + 1]];
      if (typeof id !== 'string' || typeof url !== 'string' || !NODE_ID.test(id)) continue;
      if (!isBaseUrl(url)) continue;
      known.set(id, url);
    }
    for (const id of known.keys())
      if (!this.#known.has(id) && id !== this.#node) log.info(`node ${id} joined the fleet`);
    for (const id of this.#known.keys())
      if (!known.has(id) && id !== this.#node) log.info(`node ${id} left the fleet`);
    this.#known = known;
  }

  /** Stops the heartbeat; a node that stops cleanly leaves the list at once. */
  async leave(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#url === null) return;
    await this.#fleet.client
      .multi()
      .zrem(this.#keys[0], this.#node)
      .hdel(this.#keys[1], this.#node)
      .exec()
      .catch(() => undefined);
  }
}

function isBaseUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search + url.hash === '';
  } catch {
    return false;
  }
}
