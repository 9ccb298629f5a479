/**
 * A node whose Redis (`cluster.redis`) does not answer keeps serving: it applies the rate
 * limits on its own and says so once in its log; when a redis-server comes up on that
 * address, the node reconnects by itself and counts in Redis again, where a second node
 * takes from the same bucket. (Three nodes behind HAProxy sharing a limit:
 * cluster-haproxy.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { eventually, fixture, freePort, startDaemon, type Daemon } from '../helpers/daemon.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

const KEY = 'shared-limits-key-0123456789abcdef012345';
const TOKEN = 'limited-token-0123456789abcdef';
/** Slow to refill (one request per 4 s), so the test's own pauses cannot refill a bucket. */
const LIMIT = { perSecond: 0.25, burst: 2 };

describe('rate limits in Redis, and without it', () => {
  const daemons: Daemon[] = [];
  const clients: Client[] = [];
  let redis: RedisServer | undefined;
  let redisPort = 0;
  const start = async (node: string): Promise<Daemon> => {
    const daemon = await startDaemon({
      mcpServers: { echo: fixture('echo-server') },
      cluster: { node, key: KEY, redis: `redis://127.0.0.1:${redisPort}` },
      profiles: { limited: {} },
      tokens: { limited: { token: TOKEN, profile: 'limited', rateLimit: LIMIT } },
    });
    daemons.push(daemon);
    return daemon;
  };
  /** How many of `count` calls at once pass; every other one must be RATE_LIMITED. */
  const passing = async (daemon: Daemon, count: number): Promise<number> => {
    const client = await connectWithToken(daemon, TOKEN, { name: 'limits-e2e' });
    clients.push(client);
    const outcomes = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        client.callTool({ name: 'echo__echo', arguments: { text: `${i}` } }).then(textOf),
      ),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.match(String(outcome.reason), /RATE_LIMITED/);
    }
    return outcomes.filter((o) => o.status === 'fulfilled').length;
  };

  before(async () => {
    redisPort = await freePort();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(daemons.map((d) => d.stop()));
    await redis?.stop();
  });

  test('Redis away: the node limits on its own; Redis back: the nodes share one bucket', async () => {
    const first = await start('n1');
    assert.equal(await passing(first, 3), LIMIT.burst);
    await eventually(
      () => (/Redis does not answer/.test(first.stderr()) ? true : undefined),
      5000,
      'the node to log that Redis does not answer',
    );

    redis = await startRedis(redisPort);
    // ioredis retries with a growing pause (at most 2 s): the node finds Redis by itself.
    await eventually(
      () => (/the fleet's state is in Redis at/.test(first.stderr()) ? true : undefined),
      10_000,
      'the node to reconnect to Redis',
    );
    const second = await start('n2');
    await eventually(
      () => (/the fleet's state is in Redis at/.test(second.stderr()) ? true : undefined),
      5000,
      'the second node to connect to Redis',
    );
    // The bucket in Redis is fresh: the first node spends it, the second finds it empty.
    assert.equal(await passing(first, 3), LIMIT.burst);
    assert.equal(await passing(second, 2), 0);
  });
});
