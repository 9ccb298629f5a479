/**
 * `mcp-director bench` run as a user runs it, against the echo fixture over stdio and over
 * Streamable HTTP (a `{port}` command), with short windows: the table, the `--json` fields
 * and their consistency, `--calls`, the open loop, `--compare` in interleaved rounds, the
 * HTML report, and a target that fails while the run goes on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { withPage } from '../helpers/browser.js';
import { CLI, REPO_ROOT } from '../helpers/daemon.js';

const node = process.execPath;
const ECHO_STDIO = `stdio=${node} ${join(REPO_ROOT, 'dist/test/fixtures/echo-server.js')}`;
const ECHO_HTTP = `http=${node} ${join(REPO_ROOT, 'dist/test/fixtures/serve-http.js')} --server echo --port {port}`;
const SHORT = ['--warmup', '0.3', '--duration', '1', '--connections', '4', '--quiet'];
const ECHO = ['--tool', 'echo', '--args', '{"text":"hello"}'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, killed if it outlives `timeoutMs`. */
function bench(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(node, [CLI, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Result {
  target: { name: string; kind: string };
  workload: { kind: string; tools: string[] };
  startedAt: string;
  windowS: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  callsPerSecond: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  percentiles: { percentile: number; us: number }[];
  series: { second: number; ok: number; errors: number }[];
  process?: { pid: number; cpuUsPerCall: { own: number }; rssMiB: { own: number } };
  failure?: string;
}

interface Output {
  setup: string;
  results: Result[];
  comparison?: {
    targets: string[];
    rounds: Result[][];
    ratios: number[][];
    medianRatios: number[];
  };
}

function parse(run: Run): Output {
  assert.doesNotThrow(
    () => JSON.parse(run.stdout) as unknown,
    `not JSON:\n${run.stdout}\n${run.stderr}`,
  );
  return JSON.parse(run.stdout) as Output;
}

/** The figures of one measured result agree with each other. */
function assertConsistent(result: Result): void {
  assert.equal(result.failure, undefined, result.failure);
  assert.ok(result.ok > 0, 'calls were answered');
  const l = result.latencyUs;
  assert.ok(0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
  assert.ok(Math.abs(result.callsPerSecond - result.ok / result.windowS) < 1e-6);
  const measured = result.series.filter((point) => point.second >= 0);
  assert.equal(
    measured.reduce((sum, point) => sum + point.ok + point.errors, 0),
    result.ok + result.errors,
    'the per-second series adds up to the totals',
  );
  assert.ok(
    result.series.some((point) => point.second < 0),
    'the warm-up is in the series',
  );
  const curve = result.percentiles.map((p) => p.us);
  assert.deepEqual(
    curve,
    [...curve].sort((a, b) => a - b),
    'latency grows with the percentile',
  );
  assert.equal(result.percentiles.at(-1)?.us, l.max);
}

describe('mcp-director bench', () => {
  test('a stdio server: the table names every column, and the target process is measured', async () => {
    const run = await bench([ECHO_STDIO, ...SHORT, ...ECHO]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^machine: .*CPUs/m);
    assert.match(run.stdout, /^workload: tools\/call echo; closed loop, 4 connections/m);
    const lines = run.stdout.split('\n');
    const header = lines.findIndex((line) => line.startsWith('target'));
    assert.match(
      lines[header]!,
      /^target\s+calls\/s\s+p50\s+p90\s+p99\s+p99\.9\s+max\s+errors\s+cpu\/call\s+\+children\s+rss MiB$/,
    );
    // Five latencies in whichever unit suits them (a slow machine's p50 is in ms), no errors,
    // the process's CPU per call in µs, no children, its RSS.
    assert.match(
      lines[header + 1]!,
      /^stdio\s+[\d,]+(\s+[\d.,]+ (µs|ms|s)){5}\s+0\s+\d+\.\d µs\s+-\s+\d+$/,
    );
  });

  test('--json: every field present and consistent, the target process measured', async () => {
    const run = await bench([ECHO_HTTP, ...SHORT, ...ECHO, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const { results, setup } = parse(run);
    assert.match(setup, /warm-up 0.3 s, then 1 s/);
    assert.equal(results.length, 1);
    const [result] = results;
    assertConsistent(result!);
    assert.equal(result!.target.kind, 'http-command');
    assert.equal(result!.errors, 0);
    assert.deepEqual(result!.workload.tools, ['echo']);
    assert.ok(result!.process!.pid > 0);
    assert.ok(result!.process!.cpuUsPerCall.own > 0, 'the server spent CPU on the calls');
    assert.ok(result!.process!.rssMiB.own > 10, 'a Node process has a resident set');
  });

  test('--calls stops after that many measured calls; --rate runs the open loop', async () => {
    const counted = parse(await bench([ECHO_STDIO, ...SHORT, ...ECHO, '--calls', '300', '--json']));
    assertConsistent(counted.results[0]!);
    assert.equal(counted.results[0]!.ok + counted.results[0]!.errors, 300);

    const paced = parse(await bench([ECHO_STDIO, ...SHORT, ...ECHO, '--rate', '200', '--json']));
    const result = paced.results[0]!;
    assertConsistent(result);
    // 200 calls/s for 1 s: the schedule, not the server, sets the rate.
    assert.ok(result.ok >= 150 && result.ok <= 250, `${result.ok} calls at 200/s for 1 s`);

    // Over HTTP too: the load thread must wait for the schedule, which starts with nothing in flight.
    const overHttp = parse(await bench([ECHO_HTTP, ...SHORT, ...ECHO, '--rate', '200', '--json']));
    const http = overHttp.results[0]!;
    assertConsistent(http);
    assert.ok(http.ok >= 150 && http.ok <= 250, `${http.ok} calls over HTTP at 200/s for 1 s`);
  });

  test('tools/list and the mixed workload, with the first listed tool', async () => {
    for (const workload of ['list', 'mixed']) {
      const run = await bench([ECHO_STDIO, ...SHORT, '--workload', workload, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const result = parse(run).results[0]!;
      assertConsistent(result);
      assert.equal(result.errors, 0, JSON.stringify(result.errorKinds));
      assert.equal(result.workload.kind, workload);
    }
  });

  test('HTTP+SSE targets (a path ending in /sse); connect and paged list cycles over HTTP', async () => {
    const sse = await bench([
      `sse=${node} ${join(REPO_ROOT, 'dist/test/fixtures/serve-http.js')} --server echo --legacy-sse --port {port}`,
      '--path',
      '/sse',
      ...SHORT,
      ...ECHO,
      '--json',
    ]);
    assert.equal(sse.code, 0, sse.stderr);
    const sseResult = parse(sse).results[0]!;
    assertConsistent(sseResult);
    assert.equal(sseResult.errors, 0, JSON.stringify(sseResult.errorKinds));

    const paged = `paged=${node} ${join(REPO_ROOT, 'dist/test/fixtures/serve-http.js')} --server paged --tools 25 --page 10 --port {port}`;
    for (const workload of ['connect', 'list']) {
      const run = await bench([paged, ...SHORT, '--workload', workload, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const result = parse(run).results[0]!;
      assertConsistent(result);
      assert.equal(result.errors, 0, JSON.stringify(result.errorKinds));
    }
  });

  test('--compare: two targets in interleaved rounds, ratios, and an HTML report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-bench-test-'));
    try {
      const report = join(dir, 'report.html');
      const run = await bench(
        [
          ECHO_STDIO,
          ECHO_HTTP,
          '--compare',
          '--rounds',
          '2',
          ...SHORT,
          ...ECHO,
          '--json',
          '--report',
          report,
        ],
        120_000,
      );
      assert.equal(run.code, 0, run.stderr);
      const { comparison, results } = parse(run);
      assert.deepEqual(comparison!.targets, ['stdio', 'http']);
      assert.equal(comparison!.rounds.length, 2);
      for (const round of comparison!.rounds) for (const result of round) assertConsistent(result);
      // Round 1 runs stdio then http; round 2 http then stdio.
      const [first, second] = comparison!.rounds;
      assert.ok(first![0]!.startedAt < first![1]!.startedAt);
      assert.ok(second![1]!.startedAt < second![0]!.startedAt);
      assert.deepEqual(comparison!.ratios[0], [1, 1]);
      const ratio = first![1]!.callsPerSecond / first![0]!.callsPerSecond;
      assert.ok(Math.abs(comparison!.ratios[1]![0]! - ratio) < 1e-9);
      assert.deepEqual(
        results.map((r) => r.target.name),
        ['stdio', 'http'],
      );

      const html = readFileSync(report, 'utf8');
      assert.match(html, /^<!doctype html>/);
      assert.ok(!/<script[^>]+src=|<link[^>]+href=/.test(html), 'self-contained: nothing fetched');
      assert.match(html, /uPlot/);
      const data = /<script id="bench-data" type="application\/json">(.*?)<\/script>/s.exec(html);
      const charts = JSON.parse(data![1]!) as {
        title: string;
        series: string[];
        data: unknown[][];
      }[];
      assert.equal(charts.length, 3);
      assert.deepEqual(charts[0]!.series, ['stdio', 'http']);
      assert.ok(charts.every((chart) => chart.data.length === chart.series.length + 1));
      assert.match(html, /Calls\/s relative to stdio, per round/);

      // In a real browser: three plots drawn, both targets in their legends, nothing broken.
      await withPage(async (page, seen) => {
        await page.goto(pathToFileURL(report).href);
        await page.waitForSelector('.chart canvas');
        assert.equal(await page.locator('.chart canvas').count(), 3);
        const legends = await page.locator('.chart .u-legend').allTextContents();
        assert.equal(legends.length, 3);
        for (const legend of legends) assert.match(legend, /stdio.*http/s);
        assert.deepEqual(seen.problems, []);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a target that fails is reported, and the run goes on with the others', async () => {
    const run = await bench([
      `broken=${node} -e "process.stderr.write('cannot start: no config\\n'); process.exit(3)"`,
      ECHO_STDIO,
      '--rounds',
      '1',
      ...SHORT,
      ...ECHO,
    ]);
    assert.equal(run.code, 1, 'a failed target makes the exit code 1');
    assert.match(run.stdout, /^broken\s+failed/m);
    assert.match(run.stdout, /^stdio\s+[\d,]+\s/m);
    assert.match(run.stdout, /broken failed: .*\n--- its last output:\ncannot start: no config/);
  });

  test('a flag out of range is one line and exit code 2; an unreachable URL is a failed target', async () => {
    const flag = await bench(['http://127.0.0.1:1/mcp', '--connections', '0', '--quiet']);
    assert.equal(flag.code, 2);
    assert.equal(
      flag.stderr,
      'mcp-director bench: connections must be a positive integer, got 0\n',
    );
    assert.equal(flag.stdout, '');
    const unreachable = await bench(['http://127.0.0.1:1/mcp', ...SHORT]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stdout, /^127\.0\.0\.1:1\/mcp\s+failed/m);
    assert.match(unreachable.stdout, /127\.0\.0\.1:1\/mcp failed: .*ECONNREFUSED/);
  });
});
