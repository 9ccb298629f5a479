/**
 * `npm run bench:analytics`: what the analytics cost, in one run.
 *
 * 1. stats: a week of rollups as two shards write them at 1,000 calls/s altogether (one hour
 *    of calls recorded through the real rollup writer, its minutes and hour copied over
 *    7 days), then `/api/stats?since=7d` timed on a daemon serving that data folder, and the
 *    store's own query beside it.
 * 2. throughput: `mcp-director bench` comparing the director with analytics on and its
 *    `/metrics` scraped every second (bench/scraped.ts) against analytics off, in
 *    interleaved rounds.
 *
 *   node dist/bench/analytics.js [--only stats,throughput] [any mcp-director bench option]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { openAnalyticsStore } from '../src/shared/analytics/store.js';
import {
  DAY_LEVEL,
  DAY_MS,
  HOUR_LEVEL,
  HOUR_MS,
  MINUTE_LEVEL,
  MINUTE_MS,
  RollupWriter,
  type StoredCell,
  type StoredRollup,
} from '../src/shared/analytics/rollup.js';
import type { CallRecord } from '../src/shared/analytics/types.js';
import { freePort } from '../src/bench/local-process.js';
import { SERVE_ARGV } from './processes.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;
const dist = (file: string): string => join(REPO_ROOT, 'dist', file);
const DAYS = 7;
const CALLS_PER_SECOND = 1_000;
const WRITERS = ['shard-0', 'shard-1'];
const SERVERS = ['github', 'postgres', 'filesystem', 'slack'];
const TOOLS_PER_SERVER = 5;
const CLIENTS = ['claude-code', 'cursor'];

const work = mkdtempSync(join(tmpdir(), 'mcpd-analytics-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Deterministic PRNG (mulberry32): the same data every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One hour of one writer's share of the calls, through the real rollup writer. */
function oneHour(writer: string, hourStart: number, seed: number) {
  const rnd = prng(seed);
  const rollup = new RollupWriter(writer);
  const perWriter = (CALLS_PER_SECOND / WRITERS.length) * 3600;
  for (let i = 0; i < perWriter; i++) {
    const server = SERVERS[Math.floor(rnd() * SERVERS.length)]!;
    const failed = rnd() < 0.02;
    const record: CallRecord = {
      ts: hourStart + Math.floor((i / perWriter) * HOUR_MS),
      profile: 'default',
      client: CLIENTS[Math.floor(rnd() * CLIENTS.length)]!,
      session: 's',
      server,
      method: 'tools/call',
      target: `tool-${Math.floor(rnd() * TOOLS_PER_SERVER)}`,
      era: 'modern',
      status: failed ? 'error' : 'ok',
      errorCode: failed ? -32603 : null,
      // Log-normal-ish: most calls 0.2-5 ms, a tail to seconds.
      latencyUs: Math.round(200 * Math.exp(rnd() * 3 + (rnd() < 0.01 ? 5 : 0))),
      bytesIn: 200,
      bytesOut: 400,
    };
    rollup.add(record);
  }
  return rollup.take(Number.MAX_SAFE_INTEGER, true);
}

/** A rollup entry whose every count is `n` times the template's (n identical periods). */
function timesOver(value: StoredRollup, n: number): StoredRollup {
  const [format, ...cells] = value;
  return [
    format,
    ...cells.map((cell): StoredCell => {
      const [server, method, target, profile, client, ...counts] = cell;
      const [calls, errors, timeouts, cancelled, bytesIn, bytesOut, maxUs, codes, latency] = counts;
      return [
        server,
        method,
        target,
        profile,
        client,
        calls * n,
        errors * n,
        timeouts * n,
        cancelled * n,
        bytesIn * n,
        bytesOut * n,
        maxUs,
        codes.map((x, i) => (i % 2 === 1 && x !== null ? x * n : x)),
        [latency[0], latency[1].map((c) => c * n)],
      ];
    }),
  ];
}

async function generateWeek(dir: string, now: number): Promise<number> {
  const firstHour = Math.floor((now - DAYS * 24 * HOUR_MS) / HOUR_MS) * HOUR_MS - HOUR_MS;
  const hours = DAYS * 24 + 2;
  mkdirSync(dir, { recursive: true });
  const db = open({ path: join(dir, 'rollups.mdb'), compression: false });
  let entries = 0;
  const end = firstHour + hours * HOUR_MS;
  for (const [w, writer] of WRITERS.entries()) {
    // Every hour is the same hour of calls, so a day is that hour's cells 24 times over.
    const template = oneHour(writer, 0, 17 + w).filter((e) => e.key[0] !== DAY_LEVEL);
    const hour = template.find((e) => e.key[0] === HOUR_LEVEL)!;
    for (let h = 0; h < hours; h++) {
      const shift = firstHour + h * HOUR_MS;
      for (const { key, value } of template) {
        const [level, start, tag, generation] = key;
        void db.put([level, start + shift, tag, generation], value);
        entries += 1;
      }
      await db.flushed;
    }
    // Each day's entry holds the hours generated in it, as a writer's would (the current
    // day's too: it is rewritten once a minute while it lasts).
    for (let d = Math.floor(firstHour / DAY_MS) * DAY_MS; d < end; d += DAY_MS) {
      const hoursIn = (Math.min(end, d + DAY_MS) - Math.max(firstHour, d)) / HOUR_MS;
      void db.put([DAY_LEVEL, d, hour.key[2], hour.key[3]], timesOver(hour.value, hoursIn));
      entries += 1;
    }
    await db.flushed;
  }
  await db.close();
  return entries;
}

async function statsBench(): Promise<void> {
  const now = Date.now();
  const dataDir = join(work, 'week');
  const started = performance.now();
  const entries = await generateWeek(join(dataDir, 'analytics'), now);
  const cells = oneHour('x', 0, 1).find((e) => e.key[0] === MINUTE_LEVEL)!.value.length - 1;
  process.stdout.write(
    `stats: generated ${entries.toLocaleString('en')} rollup entries (${DAYS} days + 2 h, ${WRITERS.length} writers, ~${cells} cells a minute each, ${CALLS_PER_SECOND} calls/s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  const store = openAnalyticsStore(join(dataDir, 'analytics'), { writerId: 'bench' });
  const since = now - DAYS * 24 * HOUR_MS;
  const times: number[] = [];
  let calls = 0;
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    calls = store.stats({ sinceMs: since }).total.calls;
    times.push(performance.now() - t0);
  }
  const hourSeries: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    store.stats({ sinceMs: since, seriesBucketMs: HOUR_MS });
    hourSeries.push(performance.now() - t0);
  }
  const lastHour: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    store.stats({ sinceMs: now - HOUR_MS, seriesBucketMs: MINUTE_MS });
    lastHour.push(performance.now() - t0);
  }
  await store.close();
  process.stdout.write(
    `stats: store query, 7 days (${calls.toLocaleString('en')} calls): first ${times[0]!.toFixed(1)} ms, median ${median(times).toFixed(1)} ms; with an hourly series ${median(hourSeries).toFixed(1)} ms; last hour by minute ${median(lastHour).toFixed(1)} ms\n`,
  );
  // The same through a daemon serving that data folder, over HTTP as the dashboard asks.
  const port = await freePort();
  const config = join(work, 'stats.json');
  writeFileSync(config, JSON.stringify({ mcpServers: {} }));
  const daemon = spawn(
    node,
    [
      dist('src/cli/main.js'),
      'serve',
      '--no-stdio',
      '--config',
      config,
      '--port',
      String(port),
      '--data-dir',
      dataDir,
    ],
    { stdio: 'ignore' },
  );
  try {
    const url = `http://127.0.0.1:${port}/api/stats?since=7d`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const http: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      const body = (await (await fetch(url)).json()) as { total: { calls: number } };
      http.push(performance.now() - t0);
      if (i === 0) calls = body.total.calls;
    }
    const verdict = median(http) < 50 ? 'under' : 'OVER';
    process.stdout.write(
      `stats: GET /api/stats?since=7d on the daemon: first ${http[0]!.toFixed(1)} ms, median ${median(http).toFixed(1)} ms (${calls.toLocaleString('en')} calls; goal 50 ms: ${verdict})\n`,
    );
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
}

/**
 * The director with analytics on and its `/metrics` scraped every second, against all of it
 * off; both wrapped alike by bench/scraped.ts (the scraping is done there).
 */
function throughputBench(argv: string[]): number {
  const echo = [dist('test/fixtures/echo-server.js')];
  const target = (name: string, analytics: boolean): string => {
    const config = join(work, `${name}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        mcpServers: { echo: { command: node, args: echo } },
        analytics: { enabled: analytics },
      }),
    );
    const scrape = analytics ? ' --scrape' : '';
    return (
      `${name}=${node} ${dist('bench/scraped.js')} --port {port}${scrape} -- ` +
      `${node} ${SERVE_ARGV.join(' ')} --config ${config} --port {port} ` +
      `--data-dir ${join(work, `${name}-data`)}`
    );
  };
  const result = spawnSync(
    node,
    [
      dist('src/cli/main.js'),
      'bench',
      target('analytics-on', true),
      target('analytics-off', false),
      '--args',
      JSON.stringify({ text: 'x'.repeat(180) }),
      // Ten interleaved rounds unless asked otherwise: the difference sought (a few percent)
      // is smaller than one round's noise on a small machine (single rounds ranged 0.94-1.15
      // on 2 cores), so only a median of many says which side of 5% it is.
      ...(argv.includes('--rounds') ? [] : ['--rounds', '10']),
      ...argv,
    ],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}

const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1]?.split(',') : ['stats', 'throughput'];
let status = 0;
try {
  if (only?.includes('stats')) await statsBench();
  if (only?.includes('throughput')) status = throughputBench(argv);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
