/**
 * Retention on a real analytics store: records older than `retentionDays` go, every other
 * record stays, and the background pruning runs on its own and stops when told.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalyticsStore } from '../../../../src/shared/analytics/store.js';
import type { CallRecord } from '../../../../src/shared/analytics/types.js';
import {
  keepRetention,
  pruneExpired,
  pruneOversize,
} from '../../../../src/supervisor/admin/retention.js';
import { eventually } from '../../../helpers/daemon.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 5, 12);

function openStore(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-retention-'));
  const store = openAnalyticsStore(join(dir, 'analytics'), { writerId: 'test' });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

function record(ts: number, target: string): CallRecord {
  return {
    ts,
    profile: 'default',
    client: 'test',
    session: 's',
    server: 'echo',
    method: 'tools/call',
    target,
    era: 'legacy',
    status: 'ok',
    errorCode: null,
    latencyUs: 100,
    bytesIn: 1,
    bytesOut: 1,
  };
}

/** The targets of the call records left, with their counts, sorted. */
function left(store: ReturnType<typeof openAnalyticsStore>): string[] {
  const counts = new Map<string, number>();
  for (const call of store.recent({ limit: 500 }).calls) {
    counts.set(call.target, (counts.get(call.target) ?? 0) + 1);
  }
  return [...counts].map(([target, n]) => `${target}:${n}`).sort();
}

/** The same from the minute rollups, which retention prunes by whole minutes. */
function leftInRollups(store: ReturnType<typeof openAnalyticsStore>): string[] {
  return store
    .stats({ sinceMs: 0, seriesBucketMs: 60_000 })
    .servers.flatMap((server) => server.tools.map((tool) => `${tool.tool}:${tool.calls}`))
    .sort();
}

test('deletes the records older than the retention and nothing else', async (t) => {
  const store = openStore(t);
  store.record(record(NOW - 40 * DAY, 'forty-days'));
  store.record(record(NOW - 30 * DAY - 1, 'just-past'));
  store.record(record(NOW - 30 * DAY, 'exactly-thirty'));
  store.record(record(NOW - 29 * DAY, 'twenty-nine'));
  store.record(record(NOW - 1000, 'recent'));
  store.record(record(NOW - 1000, 'recent'));
  await store.flushed();
  assert.equal(await pruneExpired(store, 30, NOW), 2);
  assert.deepEqual(left(store), ['exactly-thirty:1', 'recent:2', 'twenty-nine:1']);
  assert.deepEqual(leftInRollups(store), ['exactly-thirty:1', 'recent:2', 'twenty-nine:1']);
  assert.equal(await pruneExpired(store, 30, NOW), 0, 'nothing more to delete');
  assert.equal(await pruneExpired(store, 0, NOW), 0, '0 keeps everything');
  assert.deepEqual(left(store), ['exactly-thirty:1', 'recent:2', 'twenty-nine:1']);
});

test('keepRetention prunes in the background until stopped', async (t) => {
  const store = openStore(t);
  const old = Date.now() - 3 * DAY;
  store.record(record(old, 'old'));
  store.record(record(Date.now(), 'new'));
  await store.flushed();
  const stop = keepRetention(store, { days: 1, maxSizeMB: 0 }, { firstMs: 10, everyMs: 20 });
  t.after(stop);
  await eventually(() => (left(store).includes('old:1') ? undefined : true), 5000, 'the prune');
  assert.deepEqual(left(store), ['new:1']);
  stop();
  // Stopped: a record that expires now stays.
  store.record(record(old, 'after-stop'));
  await store.flushed();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(left(store), ['after-stop:1', 'new:1']);
});

test('a size limit deletes the oldest records until they fit, and only those', async (t) => {
  const store = openStore(t);
  // ~4 MiB of records over 4,000 seconds: one entry per second of calls.
  const big = 'x'.repeat(1_000);
  for (let i = 0; i < 4_000; i++) {
    store.record({ ...record(NOW + i * 1000, 'sized'), client: big });
  }
  await store.flushed();
  const before = store.recordBytes();
  assert.ok(before > 3 * 1024 * 1024, `records take ${before} bytes`);
  assert.equal(await pruneOversize(store, 0), 0, '0: no limit');
  const removed = await pruneOversize(store, 2);
  assert.ok(removed > 0 && removed < 4_000, `removed ${removed}`);
  assert.ok(store.recordBytes() <= 2 * 1024 * 1024, `now ${store.recordBytes()} bytes`);
  // What is left is the newest, without a gap.
  const left = store.recent({ limit: 500 }).calls.map((c) => c.ts);
  assert.equal(left[0], NOW + 3_999_000);
  const oldest = store.recent({ untilMs: NOW + (removed + 1) * 1000 }).calls.map((c) => c.ts);
  assert.deepEqual(oldest, [NOW + removed * 1000], 'the oldest kept is the next one');
  assert.equal(await pruneOversize(store, 2), 0, 'already under');
});
