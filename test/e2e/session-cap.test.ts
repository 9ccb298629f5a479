/**
 * `limits.maxSessions`: at the cap a new initialize ends the longest-idle session that has
 * no call in flight and no open stream (its next request gets 404, so its client starts a
 * new one); when every session is busy the new one gets 503 with Retry-After.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import { RawSession } from '../helpers/sse-session.js';

describe('session cap', () => {
  test('a fourth initialize at maxSessions 3 evicts the longest-idle session; when all are busy it gets 503 + Retry-After', async () => {
    const daemon = await startDaemon({
      limits: { maxSessions: 3 },
      mcpServers: { echo: fixture('echo-server') },
    });
    try {
      const a = await new RawSession(daemon.url).initialize();
      const b = await new RawSession(daemon.url).initialize();
      const c = await new RawSession(daemon.url).initialize();
      // b and c were used since a: a is the longest idle.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await b.post({ jsonrpc: '2.0', id: 1, method: 'ping' })).status, 200);
      assert.equal((await c.post({ jsonrpc: '2.0', id: 1, method: 'ping' })).status, 200);
      const d = await new RawSession(daemon.url).initialize();
      const evicted = await a.post({ jsonrpc: '2.0', id: 2, method: 'ping' });
      assert.equal(evicted.status, 404, 'the evicted session is unknown now');
      for (const kept of [b, c, d])
        assert.equal((await kept.post({ jsonrpc: '2.0', id: 3, method: 'ping' })).status, 200);
      assert.match(daemon.stderr(), /session limit 3 reached: ended session/);

      // Busy: b and d read their GET stream, c has a call in flight.
      const streams = [await b.get(), await d.get()];
      // Answered 202 (no body) once cancelled below.
      const inFlight = c.call(4, 'echo__slow', { ms: 20_000 }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const refused = await fetch(daemon.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 9,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'late', version: '1' },
          },
        }),
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '5');
      const body = (await refused.json()) as {
        id: unknown;
        error: { code: number; message: string };
      };
      assert.equal(body.id, 9);
      assert.match(body.error.message, /limits\.maxSessions/);
      for (const session of [b, c, d])
        assert.equal(
          (await session.post({ jsonrpc: '2.0', id: 5, method: 'ping' })).status,
          200,
          'busy sessions are kept',
        );

      // Once one is idle again, there is room.
      streams[0]?.abort();
      await streams[0]?.done;
      await eventually(
        async () => {
          const retry = await new RawSession(daemon.url).initialize().catch(() => undefined);
          return retry;
        },
        5000,
        'room for a new session',
      );
      assert.equal((await b.post({ jsonrpc: '2.0', id: 6, method: 'ping' })).status, 404);
      streams[1]?.abort();
      await c.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
      await inFlight;
    } finally {
      await daemon.stop();
    }
  });
});
