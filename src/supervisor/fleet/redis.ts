/**
 * A node's one connection to the fleet's Redis (`cluster.redis`; README: Running several
 * daemons), shared by what the nodes keep there: the rate-limit buckets
 * (shared-buckets.ts) and the node registry (node-registry.ts). Redis is optional help,
 * never a dependency of serving: a command fails at once while the connection is down
 * (nothing queues behind a reconnect), every user decides without it, and ioredis
 * reconnects by itself. The first failure of an outage is logged, and so is the recovery.
 */
import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { logger } from '../../shared/log.js';

const log = logger('redis');

/** How long a command may take before its caller decides without Redis. */
const TIMEOUT_MS = 250;

/**
 * Connects this node to the fleet's Redis. ioredis is loaded here, on first use: a daemon
 * without `cluster.redis` never loads it (it costs ~12 MiB of resident memory,
 * docs/architecture.md#memory).
 */
export async function connectFleetRedis(url: string, clusterKey: string): Promise<FleetRedis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: TIMEOUT_MS,
    connectTimeout: 2000,
    // Commands of one turn go out in one write.
    enableAutoPipelining: true,
  });
  return new FleetRedis(client, url, clusterKey);
}

export class FleetRedis {
  readonly client: Redis;
  /** What every key of this fleet starts with. */
  readonly prefix: string;
  /** Whether the last command got an answer. */
  #answering = true;

  /**
   * `clusterKey` names this fleet's keys: fleets with different keys can share one Redis
   * without sharing state, and the key itself never reaches Redis.
   */
  constructor(client: Redis, url: string, clusterKey: string) {
    const fleet = createHmac('sha256', clusterKey)
      .update('mcp-director redis')
      .digest('hex')
      .slice(0, 12);
    this.prefix = `mcp-director:${fleet}:`;
    this.client = client;
    this.client.on('ready', () => log.info(`the fleet's state is in Redis at ${redacted(url)}`));
    // Without a listener, an 'error' event would end the daemon.
    this.client.on('error', (error: Error) => this.failed(error));
  }

  /** Whether Redis answered the last command (for /api/health). */
  get answering(): boolean {
    return this.#answering;
  }

  /** A command was answered. */
  answered(): void {
    if (!this.#answering) log.info('Redis answers again: the fleet shares its state again');
    this.#answering = true;
  }

  /** A command (or the connection) failed. */
  failed(error: Error): void {
    if (!this.#answering) return;
    this.#answering = false;
    log.warn(
      `Redis does not answer (${error.message}): until it does, this node applies the rate limits on its own and keeps the list of nodes it last read`,
    );
  }

  close(): void {
    this.client.disconnect();
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
