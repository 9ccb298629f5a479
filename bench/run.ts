/**
 * `npm run bench`: measures, one after the other, the driver's ceiling (noop), the echo
 * fixture served directly by the SDK over Streamable HTTP (direct), and MCP Director in
 * front of the same fixture over stdio (director) and of an SDK-free NDJSON echo server
 * (director-bare: the router's own cost), with the same load settings, then
 * prints one table and the ratios. Every system gets a free port on 127.0.0.1, a hard
 * time limit, and is stopped with its whole process tree, also on failure and Ctrl-C.
 *
 *   node dist/bench/run.js [--duration 10] [--warmup 3] [--connections 16] [--threads 2]
 *                          [--pipelining 1] [--engine raw|undici] [--only noop,direct,director,director-bare]
 *                          [--rounds 1]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMicroseconds, formatTable, numberFlag } from './format.js';
import { busy, defaultLoadOptions, runLoad } from './load-driver.js';
import type { LoadOptions, LoadResult } from './load-driver.js';
import type { Engine } from './load-worker.js';
import { REPO_ROOT, freePort, startDirectorDaemon, startProcess } from './processes.js';
import type { Started } from './processes.js';

const SYSTEMS = ['noop', 'direct', 'director', 'director-bare'] as const;
type SystemName = (typeof SYSTEMS)[number];

/** How long a system may take to start and become ready. */
const START_TIMEOUT_MS = 30_000;

interface SystemUnderTest {
  /** The MCP endpoint and the tool to call there. */
  url: string;
  tool: string;
  started: Started;
  cleanup?: () => void;
}

const ECHO_ARGS = { text: 'x'.repeat(180) };

async function startNoop(): Promise<SystemUnderTest> {
  const port = await freePort();
  const started = await startProcess({
    command: process.execPath,
    args: [join(REPO_ROOT, 'dist/bench/noop-server.js'), '--port', String(port)],
    readyLine: /listening (\S+)/,
    timeoutMs: START_TIMEOUT_MS,
  });
  return { url: started.ready, tool: 'echo', started };
}

async function startDirect(): Promise<SystemUnderTest> {
  const port = await freePort();
  const started = await startProcess({
    command: process.execPath,
    args: [
      join(REPO_ROOT, 'dist/test/fixtures/serve-http.js'),
      '--server',
      'echo',
      '--port',
      String(port),
    ],
    readyLine: /listening (\S+)/,
    timeoutMs: START_TIMEOUT_MS,
  });
  return { url: started.ready, tool: 'echo', started };
}

/**
 * MCP Director in front of a stdio echo backend: the SDK-built fixture that `direct` serves
 * (`director`), or the SDK-free NDJSON server, which shows the router's own cost (`director-bare`).
 */
async function startDirector(backend: string): Promise<SystemUnderTest> {
  const echoServer = join(REPO_ROOT, backend);
  const config = { mcpServers: { echo: { command: process.execPath, args: [echoServer] } } };
  const { base, started, cleanup } = await startDirectorDaemon(config, START_TIMEOUT_MS);
  return { url: `${base}/mcp`, tool: 'echo__echo', started, cleanup };
}

const starters: Record<SystemName, () => Promise<SystemUnderTest>> = {
  noop: startNoop,
  direct: startDirect,
  director: () => startDirector('dist/test/fixtures/echo-server.js'),
  'director-bare': () => startDirector('dist/bench/ndjson-echo-server.js'),
};

type Outcome = { system: SystemName; result: LoadResult } | { system: SystemName; error: string };

/** The system being measured, so Ctrl-C can stop it. */
let current: SystemUnderTest | undefined;

async function measure(
  system: SystemName,
  load: Omit<LoadOptions, 'url' | 'tool'>,
): Promise<Outcome> {
  const limitMs =
    START_TIMEOUT_MS + (load.warmupS + load.durationS) * 1000 + load.requestTimeoutMs + 30_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hard limit of ${limitMs / 1000} s reached`)),
      limitMs,
    );
  });
  let abandoned = false;
  const attempt = (async (): Promise<LoadResult> => {
    const sut = await starters[system]();
    current = sut;
    if (abandoned) {
      // The deadline fired while it was starting: nobody else will stop it now.
      await stopCurrent();
      throw new Error('started after its deadline');
    }
    return runLoad({ ...load, url: sut.url, tool: sut.tool });
  })();
  try {
    return { system, result: await Promise.race([attempt, deadline]) };
  } catch (error) {
    const tail = current?.started.tail().trim().split('\n').slice(-15).join('\n');
    const detail = tail ? `\n  last output:\n    ${tail.replaceAll('\n', '\n    ')}` : '';
    return { system, error: `${(error as Error).message}${detail}` };
  } finally {
    clearTimeout(timer);
    abandoned = true;
    void attempt.catch(() => undefined);
    await stopCurrent();
  }
}

async function stopCurrent(): Promise<void> {
  const running = current;
  current = undefined;
  if (running === undefined) return;
  await running.started.stop();
  running.cleanup?.();
}

function printSetup(
  load: Omit<LoadOptions, 'url' | 'tool'>,
  systems: SystemName[],
  rounds: number,
): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    `MCP Director benchmark, ${new Date().toISOString()}`,
    `machine: ${availableParallelism()} × ${cpu}, node ${process.version}, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    `load: ${load.connections} connections over ${load.threads} driver threads, pipelining ` +
      `${load.pipelining}, ${load.engine} engine, warm-up ${load.warmupS} s, measured ${load.durationS} s, tools/call ` +
      `with ${JSON.stringify(ECHO_ARGS).length}-byte arguments`,
    `systems: ${systems.join(', ')} (one after the other` +
      (rounds > 1 ? `, ${rounds} rounds, the median run shown)` : ')'),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** A system's runs: the median run by calls/s stands for it; failures are kept for the report. */
interface SystemRow {
  system: SystemName;
  median: LoadResult | undefined;
  rates: number[];
  failures: string[];
}

function toRow(system: SystemName, outcomes: Outcome[]): SystemRow {
  const results: LoadResult[] = [];
  const failures: string[] = [];
  for (const outcome of outcomes) {
    if ('error' in outcome) failures.push(outcome.error);
    else results.push(outcome.result);
  }
  const sorted = [...results].sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  return {
    system,
    median: sorted[(sorted.length - 1) >> 1],
    rates: results.map((r) => r.callsPerSecond),
    failures,
  };
}

function printTable(rows: SystemRow[], rounds: number): void {
  const header = ['system', 'calls/s', 'p50', 'p99', 'max', 'errors', 'driver CPU/call', 'busy'];
  if (rounds > 1) header.push('calls/s of each run');
  const lines = rows.map((row) => {
    const r = row.median;
    if (r === undefined) return [row.system, 'FAILED'];
    const cells = [
      row.system,
      String(Math.round(r.callsPerSecond)),
      formatMicroseconds(r.latencyUs.p50),
      formatMicroseconds(r.latencyUs.p99),
      formatMicroseconds(r.latencyUs.max),
      String(r.errors),
      `${r.driverCpuUsPerCall.toFixed(1)} µs`,
      busy(r),
    ];
    if (rounds > 1) {
      const runs = row.rates.map((rate) => String(Math.round(rate)));
      cells.push(
        runs.join(' ') + (row.failures.length > 0 ? ` +${row.failures.length} failed` : ''),
      );
    }
    return cells;
  });
  process.stdout.write(`${formatTable(header, lines)}\n`);

  const rate = (name: SystemName): number | undefined =>
    rows.find((row) => row.system === name)?.median?.callsPerSecond;
  const ratios: string[] = [];
  const ratio = (a: SystemName, b: SystemName): void => {
    const x = rate(a);
    const y = rate(b);
    if (x !== undefined && y !== undefined && y > 0) {
      ratios.push(`${a}/${b} ${(x / y).toFixed(2)}×`);
    }
  };
  ratio('director', 'direct');
  ratio('director', 'noop');
  ratio('director-bare', 'noop');
  ratio('direct', 'noop');
  if (ratios.length > 0) process.stdout.write(`\nratios: ${ratios.join('   ')}\n`);

  for (const row of rows) {
    for (const failure of new Set(row.failures)) {
      process.stdout.write(`\n${row.system} failed: ${failure}\n`);
    }
    const kinds = Object.entries(row.median?.errorKinds ?? {}).map(([k, n]) => `${k} ×${n}`);
    if (kinds.length > 0) process.stdout.write(`\n${row.system} errors: ${kinds.join(', ')}\n`);
  }
}

function parseSystems(only: string | undefined): SystemName[] {
  if (only === undefined) return [...SYSTEMS];
  const names = only
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!SYSTEMS.includes(name as SystemName)) {
      throw new Error(`--only takes ${SYSTEMS.join(', ')}; got '${name}'`);
    }
  }
  return names as SystemName[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      pipelining: { type: 'string' },
      engine: { type: 'string' },
      only: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const d = defaultLoadOptions;
  const load = {
    connections: numberFlag(values.connections, d.connections),
    threads: numberFlag(values.threads, d.threads),
    durationS: numberFlag(values.duration, d.durationS),
    warmupS: numberFlag(values.warmup, d.warmupS),
    pipelining: numberFlag(values.pipelining, d.pipelining),
    engine: (values.engine ?? d.engine) as Engine,
    args: ECHO_ARGS,
    requestTimeoutMs: d.requestTimeoutMs,
  };
  const systems = parseSystems(values.only);
  const rounds = numberFlag(values.rounds, 1);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error('--rounds must be a positive integer');

  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping the system under test\n`);
    void stopCurrent().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  printSetup(load, systems, rounds);
  const outcomes = new Map<SystemName, Outcome[]>(systems.map((system) => [system, []]));
  // Rounds go over every system in turn, so a slow drift of the machine hits all of them.
  for (let round = 1; round <= rounds; round++) {
    for (const system of systems) {
      process.stderr.write(`measuring ${system}${rounds > 1 ? ` (round ${round})` : ''}…\n`);
      outcomes.get(system)!.push(await measure(system, load));
    }
  }
  process.stdout.write('\n');
  const rows = systems.map((system) => toRow(system, outcomes.get(system)!));
  printTable(rows, rounds);
  process.exitCode = rows.some((row) => row.failures.length > 0) ? 1 : 0;
}

main()
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    await stopCurrent();
    process.exitCode = 1;
  })
  // Driver pools and probes may hold sockets open; the run is over, so leave now.
  .finally(() => setTimeout(() => process.exit(), 100).unref());
