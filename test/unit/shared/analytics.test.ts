import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { openAnalyticsStore, type AnalyticsCounters } from '../../../src/shared/analytics/store.js';
import {
  LatencyHistogram,
  OTHER_TOOL,
  PERCENTILE_RELATIVE_ERROR,
  StatsAggregator,
  type CallSummary,
} from '../../../src/shared/analytics/stats.js';
import type { CallRecord, CallStatus } from '../../../src/shared/analytics/types.js';
import type { WriterJob } from '../../helpers/analytics-writer.js';

const T0 = Date.UTC(2026, 10, 21, 12);
const SERVERS = ['fs', 'github', 'db'];
const STATUSES = 'ok ok ok ok ok ok error timeout cancelled'.split(' ') as CallStatus[];

/** A fresh folder, removed when the test ends (pass or fail). */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-director-analytics-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Calls one ms apart from T0, latencies log-uniform from 1 µs to ~1 min. */
function makeRecords(n: number, seed = 1): CallRecord[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const status = pick(STATUSES);
    return {
      ts: T0 + i,
      profile: pick(['default', 'default', 'ci']),
      client: pick(['claude-code', 'cursor', 'cursor', '']),
      session: `session-${i % 17}`,
      server: pick(SERVERS),
      method: pick(['tools/call', 'tools/call', 'resources/read']),
      target: `tool-${Math.floor(rnd() * 5)}`,
      era: rnd() < 0.5 ? 'legacy' : 'modern',
      status,
      errorCode: status === 'error' ? -32603 : null,
      latencyUs: Math.round(Math.exp(rnd() * Math.log(6e7))),
      bytesIn: Math.floor(rnd() * 2000),
      bytesOut: Math.floor(rnd() * 9000),
    };
  });
}

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? 0;
}

const PERCENTILES = { p50Ms: 0.5, p90Ms: 0.9, p99Ms: 0.99 } as const;

/** The report's figures recomputed from every record, the slow and obvious way. */
function assertSummary(actual: CallSummary, records: CallRecord[], what: string): void {
  const count = (s: CallStatus) => records.filter((r) => r.status === s).length;
  const sum = (f: (r: CallRecord) => number) => records.reduce((a, r) => a + f(r), 0);
  const lat = records.map((r) => r.latencyUs).sort((a, b) => a - b);
  const expected = {
    calls: records.length,
    errors: count('error'),
    timeouts: count('timeout'),
    cancelled: count('cancelled'),
    bytesIn: sum((r) => r.bytesIn),
    bytesOut: sum((r) => r.bytesOut),
    maxMs: (lat.at(-1) ?? 0) / 1000,
  };
  const keys = Object.keys(expected) as (keyof typeof expected)[];
  assert.deepEqual(Object.fromEntries(keys.map((k) => [k, actual[k]])), expected, what);
  for (const [field, q] of Object.entries(PERCENTILES) as [keyof typeof PERCENTILES, number][]) {
    const exactMs = nearestRank(lat, q) / 1000;
    // The histogram's bound, plus the report's rounding to whole µs.
    const allowed = exactMs * PERCENTILE_RELATIVE_ERROR + 0.0005;
    const got = actual[field];
    assert.ok(Math.abs(got - exactMs) <= allowed, `${what} ${field}: ${got} vs ${exactMs}`);
  }
}

test('histogram percentiles stay within the documented error; small sets are exact', () => {
  const rnd = prng(7);
  const values = Array.from({ length: 50_000 }, () => Math.exp(rnd() * Math.log(3e9)));
  const h = new LatencyHistogram();
  for (const v of values) h.add(v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of [0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]) {
    const exact = nearestRank(sorted, q);
    const err = Math.abs(h.quantile(q) - exact);
    assert.ok(err <= exact * PERCENTILE_RELATIVE_ERROR + 1, `q=${q}: ${h.quantile(q)} vs ${exact}`);
  }
  const small = new LatencyHistogram();
  for (const v of [5000.5, 17, 123456, 999, 3]) small.add(v);
  const quintiles = [0.2, 0.4, 0.6, 0.8, 1].map((q) => small.quantile(q));
  assert.deepEqual(quintiles, [3, 17, 999, 5000.5, 123456]);
});

test('aggregator folds tools beyond the cap into one row and lists the top clients', () => {
  const agg = new StatsAggregator({ maxToolsPerServer: 2, topLimit: 1 });
  for (const r of makeRecords(300)) agg.add({ ...r, server: 'fs', method: 'tools/call' });
  const report = agg.report();
  const tools = report.servers[0]?.tools ?? [];
  assert.equal(tools.length, 3);
  assert.equal(tools.filter((t) => t.tool === OTHER_TOOL).length, 1);
  const calls = tools.reduce((a, t) => a + t.calls, 0);
  assert.equal(calls, 300);
  const clients = report.clients.map((c) => c.client);
  assert.deepEqual(clients, ['cursor']);
});

test('10k fire-and-forget records give exact counts and bounded percentiles', async (t) => {
  const dir = tempDir(t);
  const records = makeRecords(10_000);
  const store = openAnalyticsStore(join(dir, 'analytics'), { writerId: 'shard-0' });
  for (const r of records) store.record(r);
  await store.flushed();
  assert.deepEqual(store.counters(), { recorded: 10_000, failed: 0 });
  const report = store.stats();
  assert.ok(PERCENTILE_RELATIVE_ERROR <= 0.01, 'the bound DESIGN promises');
  assert.deepEqual([report.from, report.until], [T0, T0 + 9_999]);
  assertSummary(report.total, records, 'total');
  assert.deepEqual(report.servers.map((s) => s.server).sort(), [...SERVERS].sort());
  const calls = report.servers.map((s) => s.calls);
  const sorted = [...calls].sort((a, b) => b - a);
  assert.deepEqual(calls, sorted, 'servers sorted by calls');
  for (const s of report.servers) {
    const ofServer = records.filter((r) => r.server === s.server);
    assertSummary(s, ofServer, s.server);
    assert.equal(s.tools.length, 10, 'two methods × five targets');
    for (const tool of s.tools) {
      const mine = ofServer.filter((r) => r.method === tool.method && r.target === tool.tool);
      assertSummary(tool, mine, `${s.server}/${tool.method}/${tool.tool}`);
    }
  }
  for (const c of report.clients) {
    const mine = records.filter((r) => r.client === c.client);
    assert.equal(c.calls, mine.length);
    assert.equal(c.errors, mine.filter((r) => r.status === 'error').length);
  }
  const profiles = report.profiles.map((p) => p.profile);
  assert.deepEqual(profiles, ['default', 'ci']);
  await store.close();
  // The data outlives the handle.
  const reopened = openAnalyticsStore(join(dir, 'analytics'), { writerId: 'supervisor' });
  assert.equal(reopened.stats().total.calls, 10_000);
  await reopened.close();
});

test('time range is [sinceMs, untilMs) and the server filter applies', async (t) => {
  const dir = tempDir(t);
  const records = makeRecords(2_000, 3);
  const store = openAnalyticsStore(dir, { writerId: 'shard-1' });
  for (const r of records) store.record(r);
  await store.flushed();
  const window = { sinceMs: T0 + 500, untilMs: T0 + 1_200 };
  const inWindow = records.filter((r) => r.ts >= window.sinceMs && r.ts < window.untilMs);
  const report = store.stats(window);
  assert.deepEqual([report.from, report.until], [window.sinceMs, window.untilMs]);
  assertSummary(report.total, inWindow, 'window');
  assert.equal(store.stats({ sinceMs: T0 + 1_999 }).total.calls, 1);
  assert.equal(store.stats({ untilMs: T0 }).total.calls, 0);
  assert.equal(store.stats({ untilMs: T0 }).from, null);
  const github = store.stats({ ...window, server: 'github' });
  const servers = github.servers.map((s) => s.server);
  assert.deepEqual(servers, ['github']);
  const ofGithub = inWindow.filter((r) => r.server === 'github');
  assertSummary(github.total, ofGithub, 'github');
  assert.equal(store.stats({ server: 'nope' }).total.calls, 0);
  await store.close();
});

test('two worker threads write the same store at once; the main thread reads the sum', async (t) => {
  const path = join(tempDir(t), 'analytics');
  const main = openAnalyticsStore(path, { writerId: 'supervisor' });
  const count = 5_000;
  const workers = ['shard-0', 'shard-1'].map((writerId, i) => {
    // Both writers use the same timestamps: only the writer part keeps their keys apart.
    const job: WriterJob = { path, writerId, server: `srv-${i}`, count, startTs: T0 };
    return new Worker(new URL('../../helpers/analytics-writer.js', import.meta.url), {
      workerData: job,
    });
  });
  // Listen for exit now: a worker may exit while the test still awaits the other's message.
  const exited = Promise.all(workers.map((w) => once(w, 'exit')));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const done = workers.map((w) => once(w, 'message') as Promise<[AnalyticsCounters]>);
  for (const w of workers) w.postMessage('go');
  for (const [counters] of await Promise.all(done)) {
    assert.deepEqual(counters, { recorded: count, failed: 0 });
  }
  await exited;
  // The workers closed their handles; the main thread's must still work.
  const report = main.stats();
  assert.equal(report.total.calls, 2 * count);
  assert.equal(report.total.errors, (2 * count) / 10);
  assert.deepEqual(report.servers.map((s) => [s.server, s.calls]).sort(), [
    ['srv-0', count],
    ['srv-1', count],
  ]);
  assert.equal(report.total.maxMs, (100 + count - 1) / 1000);
  await main.close();
});

test('a restarted writer reusing its writerId does not overwrite earlier records', async (t) => {
  const dir = tempDir(t);
  const r = makeRecords(1)[0] as CallRecord;
  for (let run = 0; run < 2; run++) {
    const store = openAnalyticsStore(dir, { writerId: 'shard-0' });
    store.record(r); // same ts, same writerId, same sequence number both times
    await store.close();
  }
  const reader = openAnalyticsStore(dir, { writerId: 'supervisor' });
  assert.equal(reader.stats().total.calls, 2);
  await reader.close();
});

test('prune deletes records before the cutoff and reports how many', async (t) => {
  const dir = tempDir(t);
  const store = openAnalyticsStore(dir, { writerId: 'supervisor' });
  for (const r of makeRecords(25_000, 5)) store.record(r);
  await store.flushed();
  assert.equal(await store.prune(T0 + 21_000), 21_000, 'spans several prune batches');
  const left = store.stats();
  assert.equal(left.total.calls, 4_000);
  assert.equal(left.from, T0 + 21_000);
  assert.equal(await store.prune(T0 + 21_000), 0);
  // Two prunes at once: each key is counted by the one that actually removed it.
  const both = await Promise.all([store.prune(T0 + 25_000), store.prune(T0 + 25_000)]);
  assert.equal(both[0] + both[1], 4_000);
  assert.equal(store.stats().total.calls, 0);
  await store.close();
});

test('failed writes and writes after close are counted and logged once, never thrown', async (t) => {
  const dir = tempDir(t);
  const logged: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logged.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  t.after(() => void (process.stderr.write = write));
  const store = openAnalyticsStore(dir, { writerId: 'shard-2' });
  const good = makeRecords(1)[0] as CallRecord;
  // msgpack cannot encode an integer this large: the put throws synchronously.
  const bad = { ...good, latencyUs: (2n ** 70n) as unknown as number };
  store.record(bad);
  store.record(bad);
  store.record(good);
  await store.flushed();
  assert.deepEqual(store.counters(), { recorded: 1, failed: 2 });
  assert.equal(store.stats().total.calls, 1);
  await store.close();
  assert.doesNotThrow(() => store.record(good));
  assert.deepEqual(store.counters(), { recorded: 1, failed: 3 });
  assert.throws(() => store.stats(), /closed/);
  await store.close();
  assert.equal(logged.filter((line) => line.includes('[analytics]')).length, 1, logged.join(''));
});

test('writerId is validated before any folder is created', () => {
  const path = join(tmpdir(), 'mcp-director-analytics-never-created');
  assert.throws(() => openAnalyticsStore(path, { writerId: '' }), TypeError);
  assert.throws(() => openAnalyticsStore(path, { writerId: 'a\0b' }), TypeError);
});

test('throughput sanity check (printed, not asserted)', async (t) => {
  const dir = tempDir(t);
  const records = makeRecords(100_000, 11);
  const store = openAnalyticsStore(dir, { writerId: 'bench' });
  let started = performance.now();
  for (const r of records) store.record(r);
  const queuedMs = performance.now() - started;
  await store.flushed();
  const writeMs = performance.now() - started;
  started = performance.now();
  const report = store.stats();
  const scanMs = performance.now() - started;
  assert.equal(report.total.calls, records.length);
  const rate = (ms: number) => Math.round((records.length / ms) * 1000).toLocaleString('en');
  const perCallUs = ((queuedMs * 1000) / records.length).toFixed(2);
  t.diagnostic(`record(): ${perCallUs} µs/call on the caller's thread`);
  t.diagnostic(`record + flushed: ${rate(writeMs)} records/s; stats scan: ${rate(scanMs)}/s`);
  await store.close();
});
