import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { openAnalyticsStore, type AnalyticsCounters } from '../../../src/shared/analytics/store.js';
import {
  OTHER_TOOL,
  StatsAggregator,
  type CallSummary,
} from '../../../src/shared/analytics/stats.js';
import {
  LATENCY_RELATIVE_ERROR,
  LatencyRecorder,
  LatencySum,
} from '../../../src/shared/analytics/latency.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_LEVEL,
  MINUTE_MS,
  RollupWriter,
} from '../../../src/shared/analytics/rollup.js';
import { BadCursor } from '../../../src/shared/analytics/recent-calls.js';
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

/** Calls `stepMs` apart from T0, latencies log-uniform from 1 µs to ~1 min. */
function makeRecords(n: number, seed = 1, stepMs = 1): CallRecord[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const status = pick(STATUSES);
    return {
      ts: T0 + i * stepMs,
      profile: pick(['default', 'default', 'ci']),
      client: pick(['claude-code', 'cursor', 'cursor', '']),
      session: `session-${i % 17}`,
      server: pick(SERVERS),
      method: pick(['tools/call', 'tools/call', 'resources/read']),
      target: `tool-${Math.floor(rnd() * 5)}`,
      era: rnd() < 0.5 ? 'legacy' : 'modern',
      status,
      errorCode: status === 'error' ? (rnd() < 0.5 ? -32603 : -32602) : null,
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
    const allowed = exactMs * LATENCY_RELATIVE_ERROR + 0.0005;
    const got = actual[field];
    assert.ok(Math.abs(got - exactMs) <= allowed, `${what} ${field}: ${got} vs ${exactMs}`);
  }
}

test('hdr latencies: percentiles within the stated 3.2% of the exact ones, below 32 µs exact', () => {
  const rnd = prng(7);
  const values = Array.from({ length: 50_000 }, () => Math.round(Math.exp(rnd() * Math.log(3e9))));
  // Recorded in three cells, summed as a query sums them.
  const recorders = [new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder()];
  values.forEach((v, i) => recorders[i % 3]?.record(v));
  const sum = new LatencySum();
  for (const r of recorders) sum.add(r.stored());
  const sorted = [...values].sort((a, b) => a - b);
  const qs = [0.1, 1, 25, 50, 75, 90, 99, 99.9, 100];
  const got = sum.percentiles(qs);
  qs.forEach((q, i) => {
    const exact = nearestRank(sorted, q / 100);
    const err = Math.abs((got[i] ?? 0) - exact);
    assert.ok(err <= exact * LATENCY_RELATIVE_ERROR, `q=${q}: ${got[i]} vs ${exact}`);
  });
  const small = new LatencyRecorder();
  for (const v of [17, 3, 31, 10, 5]) small.record(v);
  const exactSum = new LatencySum();
  exactSum.add(small.stored());
  assert.deepEqual(exactSum.percentiles([20, 40, 60, 80, 100]), [3, 5, 10, 17, 31]);
  // Stored latencies come from disk: a malformed one is ignored, not trusted.
  exactSum.add(['x', [1]]);
  exactSum.add([-1, [1]]);
  assert.deepEqual(exactSum.percentiles([100]), [31]);
});

/** The minute cells of the records, as a shard would store them. */
function minuteCells(records: CallRecord[]) {
  const writer = new RollupWriter('test');
  for (const r of records) writer.add(r);
  return writer.take(Date.now(), true).filter((e) => e.key[0] === MINUTE_LEVEL);
}

test('aggregator folds tools beyond the cap into one row and lists the top clients', () => {
  const agg = new StatsAggregator({ maxToolsPerServer: 2, topLimit: 1 });
  const records = makeRecords(300).map((r) => ({ ...r, server: 'fs', method: 'tools/call' }));
  for (const { key, value } of minuteCells(records)) {
    for (const cell of value.slice(1)) agg.add(cell as never, key[1], MINUTE_MS);
  }
  const report = agg.report();
  const tools = report.servers[0]?.tools ?? [];
  assert.equal(tools.length, 3);
  assert.equal(tools.filter((t) => t.tool === OTHER_TOOL).length, 1);
  const calls = tools.reduce((a, t) => a + t.calls, 0);
  assert.equal(calls, 300);
  const clients = report.clients.map((c) => c.client);
  assert.deepEqual(clients, ['cursor']);
  assert.equal(report.errors.length, 1, 'the error list is capped at topLimit rows');
  const all = new StatsAggregator({ maxToolsPerServer: 2 });
  for (const { key, value } of minuteCells(records)) {
    for (const cell of value.slice(1)) all.add(cell as never, key[1], MINUTE_MS);
  }
  const codes = all.report().errors;
  assert.deepEqual(codes[0], report.errors[0], 'the most frequent first');
  const errors = records.filter((r) => r.status === 'error').length;
  assert.equal(
    codes.reduce((a, e) => a + e.count, 0),
    errors,
  );
});

test('10k fire-and-forget records give exact counts and bounded percentiles', async (t) => {
  const dir = tempDir(t);
  const records = makeRecords(10_000);
  const store = openAnalyticsStore(join(dir, 'analytics'), { writerId: 'shard-0' });
  for (const r of records) store.record(r);
  await store.flushed();
  assert.deepEqual(store.counters(), { recorded: 10_000, failed: 0 });
  const report = store.stats();
  assert.ok(LATENCY_RELATIVE_ERROR <= 1 / 32, 'the bound docs/architecture.md promises');
  // An open window reports the periods it summed: here the one day of the calls.
  const day = Math.floor(T0 / DAY_MS) * DAY_MS;
  assert.deepEqual([report.from, report.until], [day, day + DAY_MS]);
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

test('a window is widened to whole minutes; hours and minutes together count each call once', async (t) => {
  const dir = tempDir(t);
  // One call every 2 s for 3 h 10 min: four hourly periods, 190 minutes.
  const records = makeRecords(5_700, 3, 2_000);
  const store = openAnalyticsStore(dir, { writerId: 'shard-1' });
  for (const r of records) store.record(r);
  await store.flushed();
  const window = {
    sinceMs: T0 + 17 * MINUTE_MS + 5_000,
    untilMs: T0 + 2 * HOUR_MS + 43 * MINUTE_MS + 1,
  };
  const aligned = { since: T0 + 17 * MINUTE_MS, until: T0 + 2 * HOUR_MS + 44 * MINUTE_MS };
  const inWindow = records.filter((r) => r.ts >= aligned.since && r.ts < aligned.until);
  const report = store.stats(window);
  assert.deepEqual([report.from, report.until], [aligned.since, aligned.until]);
  assertSummary(report.total, inWindow, 'window');
  // The same window from minutes only (a series by minute) gives the same figures.
  const byMinute = store.stats({ ...window, seriesBucketMs: MINUTE_MS });
  assert.deepEqual(byMinute.total, report.total);
  const points = byMinute.series?.points ?? [];
  assert.equal(points.length, 147);
  assert.equal(
    points.reduce((a, p) => a + p.calls, 0),
    inWindow.length,
  );
  const firstMinute = inWindow.filter((r) => r.ts < aligned.since + MINUTE_MS);
  assert.deepEqual(points[0] && [points[0].t, points[0].calls], [
    aligned.since,
    firstMinute.length,
  ]);
  // Longer than a day: whole hours.
  const long = store.stats({ sinceMs: T0 + HOUR_MS + 1, untilMs: T0 + 30 * HOUR_MS });
  assert.deepEqual([long.from, long.until], [T0 + HOUR_MS, T0 + 30 * HOUR_MS]);
  assert.equal(long.total.calls, 5_700 - 1_800);
  const byHour = store.stats({ seriesBucketMs: HOUR_MS });
  assert.deepEqual(
    byHour.series?.points.map((p) => p.calls),
    [1_800, 1_800, 1_800, 300],
  );
  const lastMinute = { sinceMs: T0 + 3 * HOUR_MS + 9 * MINUTE_MS, untilMs: T0 + 4 * HOUR_MS };
  assert.equal(store.stats(lastMinute).total.calls, 30);
  assert.equal(store.stats({ untilMs: T0 }).total.calls, 0);
  assert.equal(store.stats({ untilMs: T0 }).from, null);
  // Filters: server, tool, client, profile, alone and together.
  const pick = (f: (r: CallRecord) => boolean) => inWindow.filter(f);
  const cases: [Parameters<typeof store.stats>[0], CallRecord[]][] = [
    [{ server: 'github' }, pick((r) => r.server === 'github')],
    [{ tool: 'tool-2' }, pick((r) => r.target === 'tool-2')],
    [{ client: 'cursor' }, pick((r) => r.client === 'cursor')],
    [{ profile: 'ci', server: 'db' }, pick((r) => r.profile === 'ci' && r.server === 'db')],
  ];
  for (const [filter, expected] of cases) {
    assertSummary(store.stats({ ...window, ...filter }).total, expected, JSON.stringify(filter));
  }
  assert.deepEqual(
    store.stats({ ...window, server: 'github' }).servers.map((s) => s.server),
    ['github'],
  );
  assert.equal(store.stats({ server: 'nope' }).total.calls, 0);
  const oneTool = store.stats({ ...window, server: 'db', tool: 'tool-1' });
  const codes = oneTool.errors.reduce((a, e) => a + e.count, 0);
  const ofTool = pick((r) => r.server === 'db' && r.target === 'tool-1' && r.errorCode !== null);
  assert.equal(codes, ofTool.length);
  await store.close();
});

test('recent calls: newest first, pages that join up, filters, error texts, forged cursors refused', async (t) => {
  const dir = tempDir(t);
  const records = makeRecords(1_000, 9, 10).map((r, i) =>
    r.status === 'error' ? { ...r, error: `boom ${i}` } : r,
  );
  const store = openAnalyticsStore(dir, { writerId: 'shard-0' });
  for (const r of records) store.record(r);
  await store.flushed();
  const seen: CallRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = store.recent({ limit: 64, ...(cursor !== undefined && { cursor }) });
    seen.push(...result.calls);
    cursor = result.next;
    if (cursor === undefined) break;
  }
  assert.deepEqual(seen, [...records].reverse());
  const errors = store.recent({ status: 'error', server: 'db', limit: 500 }).calls;
  const expected = records.filter((r) => r.status === 'error' && r.server === 'db').reverse();
  assert.deepEqual(errors, expected);
  assert.ok(errors.every((r) => r.error?.startsWith('boom ')));
  const windowed = store.recent({ sinceMs: T0 + 2_000, untilMs: T0 + 3_000, limit: 500 }).calls;
  assert.deepEqual(
    windowed.map((r) => r.ts),
    records
      .slice(200, 300)
      .map((r) => r.ts)
      .reverse(),
  );
  assert.throws(() => store.recent({ cursor: 'not-a-cursor' }), BadCursor);
  const forged = Buffer.from(JSON.stringify([1, {}, 2, 3])).toString('base64url');
  assert.throws(() => store.recent({ cursor: forged }), BadCursor);
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

test('prune deletes records before the cutoff and the rollup periods that ended by then', async (t) => {
  const dir = tempDir(t);
  const store = openAnalyticsStore(dir, { writerId: 'supervisor' });
  // One call a second for ~7 h; the cutoff falls inside the sixth hour.
  for (const r of makeRecords(25_000, 5, 1_000)) store.record(r);
  await store.flushed();
  const cutoff = T0 + 21_000_000;
  assert.equal(await store.prune(cutoff), 21_000, 'spans several prune batches');
  assert.equal(store.recent({ limit: 500, sinceMs: 0, untilMs: cutoff }).calls.length, 0);
  // Minutes from the cutoff on are all kept, and nothing before it.
  assert.equal(store.stats({ sinceMs: cutoff, untilMs: T0 + 25_000_000 }).total.calls, 4_000);
  assert.equal(
    store.stats({ sinceMs: T0, untilMs: cutoff, seriesBucketMs: MINUTE_MS }).total.calls,
    0,
  );
  // Periods go whole: the hour holding the cutoff is kept with its calls before the cutoff,
  // and so is the day (an open window reads days).
  assert.equal(store.stats({ seriesBucketMs: HOUR_MS }).total.calls, 25_000 - 5 * 3_600);
  assert.equal(store.stats().total.calls, 25_000);
  assert.equal(await store.prune(cutoff), 0);
  // Two prunes at once: each key is counted by the one that actually removed it.
  const both = await Promise.all([store.prune(T0 + 25_000_000), store.prune(T0 + 25_000_000)]);
  assert.equal(both[0] + both[1], 4_000);
  assert.equal(store.recent().calls.length, 0);
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
  // Not a number: refused before it reaches the rollups (it would spoil a whole period).
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
  t.diagnostic(
    `record + flushed: ${rate(writeMs)} records/s; stats from rollups: ${scanMs.toFixed(1)} ms`,
  );
  await store.close();
});

test('lifecycle log: a session is one record from start to end; prune keeps open sessions', async (t) => {
  const dir = tempDir(t);
  const store = openAnalyticsStore(dir, { writerId: 'supervisor' });
  const session = (id: string, start: number, end: number | null, profile = 'default') => ({
    id,
    client: 'claude-code',
    clientVersion: '1.0.0',
    profile,
    protocolVersion: '2025-11-25',
    transport: 'streamable-http',
    start,
    end,
    calls: end === null ? 0 : 7,
  });
  store.recordSession(session('old-ended', T0, T0 + 1_000));
  store.recordSession(session('old-open', T0 + 10, null));
  store.recordSession(session('new', T0 + HOUR_MS, null, 'ci'));
  store.recordSession(session('new', T0 + HOUR_MS, T0 + 2 * HOUR_MS, 'ci'));
  for (const [i, state] of ['starting', 'ready', 'failed'].entries()) {
    store.recordServerEvent({ ts: T0 + i, server: 'fs', state, restarts: i, pid: 100 + i });
  }
  store.recordServerEvent({ ts: T0 + HOUR_MS, server: 'db', state: 'ready', restarts: 0 });
  await store.flushed();
  assert.deepEqual(
    store.sessions().map((s) => [s.id, s.end, s.calls]),
    [
      ['new', T0 + 2 * HOUR_MS, 7],
      ['old-open', null, 0],
      ['old-ended', T0 + 1_000, 7],
    ],
  );
  assert.deepEqual(
    store.sessions({ profile: 'ci' }).map((s) => s.id),
    ['new'],
  );
  assert.deepEqual(
    store.serverEvents({ server: 'fs' }).map((e) => e.state),
    ['failed', 'ready', 'starting'],
  );
  assert.deepEqual(
    store.serverEvents({ sinceMs: T0 + 1, untilMs: T0 + HOUR_MS, limit: 5 }).map((e) => e.state),
    ['failed', 'ready'],
  );
  await store.prune(T0 + 30 * MINUTE_MS);
  assert.deepEqual(
    store.sessions().map((s) => s.id),
    ['new', 'old-open'],
    'an open session stays, an ended one goes',
  );
  assert.deepEqual(
    store.serverEvents().map((e) => e.server),
    ['db'],
  );
  await store.close();
});

test('a window over days reads days, hours and minutes, each call once', async (t) => {
  const dir = tempDir(t);
  // One call a minute for three days from T0 (noon UTC).
  const records = makeRecords(3 * 24 * 60, 13, MINUTE_MS);
  const store = openAnalyticsStore(dir, { writerId: 'shard-0' });
  for (const r of records) store.record(r);
  await store.flushed();
  const window = {
    sinceMs: T0 + 5 * HOUR_MS + 17 * MINUTE_MS,
    untilMs: T0 + 2 * DAY_MS + 8 * HOUR_MS,
  };
  // Longer than a day: whole hours.
  const aligned = { since: T0 + 5 * HOUR_MS, until: T0 + 2 * DAY_MS + 8 * HOUR_MS };
  const inWindow = records.filter((r) => r.ts >= aligned.since && r.ts < aligned.until);
  const report = store.stats(window);
  assert.deepEqual([report.from, report.until], [aligned.since, aligned.until]);
  assertSummary(report.total, inWindow, 'days + hours');
  const byHour = store.stats({ ...window, seriesBucketMs: HOUR_MS });
  assert.deepEqual(byHour.total, report.total, 'the same from hours alone');
  const byDay = store.stats({ seriesBucketMs: DAY_MS });
  assert.deepEqual(
    byDay.series?.points.map((p) => p.calls),
    [720, 1_440, 1_440, 720],
  );
  await store.close();
});
