/**
 * One measurement of one target: start it when it is a local command, open a session, run
 * the preflight, drive the load, and sample the target's CPU time and memory over the
 * measured window. A target that fails is returned as a result with its `failure` (and the
 * last lines it wrote), never thrown, so a comparison carries on with the other targets.
 */
import { forgetUsage, freePort, startLocal, usageOf, waitForPort } from './local-process.js';
import type { LocalProcess, TreeUsage } from './local-process.js';
import type { LoadOptions } from './options.js';
import { checkLoadOptions } from './options.js';
import { percentileCurve } from './histogram.js';
import type { LatencySummary } from './histogram.js';
import { preflight } from './preflight.js';
import type { Exchange } from './preflight.js';
import type { Progress } from './progress.js';
import { openStdioSession, runStdioLoad } from './stdio-load.js';
import { RunTally } from './tally.js';
import type { SecondPoint, Tick } from './tally.js';
import { describeTarget, isLegacySse } from './targets.js';
import type { Target } from './targets.js';
import type { Workload } from './options.js';
import { openExchange } from './http/mcp-http.js';
import { runHttpLoad } from './http/http-load.js';
import { SseSession } from './http/legacy-sse.js';
import type { DriverOutcome } from './http/http-load.js';

export interface ProcessFigures {
  pid: number;
  /** CPU time per answered call in the window: the target's own process, and its descendants. */
  cpuUsPerCall: { own: number; children: number };
  /** Resident memory at the end of the window, and the own process's peak over the run. */
  rssMiB: { own: number; children: number; ownPeak: number };
  childCount: number;
}

export interface BenchResult {
  target: { name: string; kind: Target['kind']; spec: string };
  workload: Workload;
  options: Omit<LoadOptions, 'workload'>;
  startedAt: string;
  /** Seconds measured: the duration, or how long the call count took. */
  windowS: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Calls still unanswered when the driver stopped waiting for them. */
  abandoned: number;
  callsPerSecond: number;
  latencyUs: LatencySummary;
  percentiles: { percentile: number; us: number }[];
  series: SecondPoint[];
  driver: { cpuUsPerCall: number; threadUtilization: number[] };
  /** Present when the benchmark started the target itself. */
  process?: ProcessFigures;
  /** Why the target could not be measured (with its last output), when it could not. */
  failure?: string;
}

const START_TIMEOUT_MS = 30_000;

export async function measure(
  target: Target,
  options: LoadOptions,
  progress?: (label: string, totalS: number) => Progress,
): Promise<BenchResult> {
  checkLoadOptions(options);
  const { workload: requested, ...rest } = options;
  const result: BenchResult = {
    target: { name: target.name, kind: target.kind, spec: describeTarget(target) },
    workload: requested,
    options: rest,
    startedAt: new Date().toISOString(),
    windowS: 0,
    ok: 0,
    errors: 0,
    errorKinds: {},
    abandoned: 0,
    callsPerSecond: 0,
    latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
    percentiles: [],
    series: [],
    driver: { cpuUsPerCall: 0, threadUtilization: [] },
  };
  let local: LocalProcess | undefined;
  try {
    let url: URL | undefined;
    if (target.kind === 'url') url = new URL(target.url);
    else if (target.kind === 'http-command') {
      const port = await freePort();
      local = startLocal(target.command.replaceAll('{port}', String(port)), false);
      await waitForPort('127.0.0.1', port, START_TIMEOUT_MS, local);
      url = new URL(`http://127.0.0.1:${port}${target.path}`);
    } else {
      local = startLocal(target.command, true);
    }
    await drive(result, options, url, local, progress);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const tail = local?.tail().trim() ?? '';
    result.failure = tail === '' ? message : `${message}\n--- its last output:\n${tail}`;
  } finally {
    await local?.stop();
    forgetUsage();
  }
  return result;
}

async function drive(
  result: BenchResult,
  options: LoadOptions,
  url: URL | undefined,
  local: LocalProcess | undefined,
  progress: ((label: string, totalS: number) => Progress) | undefined,
): Promise<void> {
  const tally = new RunTally();
  let measuringSince = 0;
  let before: { usage: Promise<TreeUsage> | undefined; cpu: NodeJS.CpuUsage } | undefined;
  let closing: Promise<{ usage: TreeUsage | undefined; cpu: NodeJS.CpuUsage }> | undefined;
  let closingTimer: NodeJS.Timeout | undefined;
  let peakRss = 0;
  const totalS = options.warmupS + options.durationS;
  const bar = progress?.(result.target.name, totalS);
  const began = performance.now();
  const usageNow = (): Promise<TreeUsage> | undefined =>
    local === undefined ? undefined : usageOf(local.pid);
  const onTick = (tick: Tick): void => {
    tally.add(tick);
    bar?.update({
      elapsedS: (performance.now() - began) / 1000,
      measuring: tick.second >= 0,
      callsPerSecond: tally.latestComplete?.ok ?? 0,
      errors: tally.errors,
    });
  };
  const onMeasuring = (): void => {
    measuringSince = performance.now();
    before = { usage: usageNow(), cpu: process.cpuUsage() };
    if (options.calls > 0) return;
    // With a duration, the window's CPU is read as it closes, before the in-flight calls drain.
    closing = new Promise((resolve) => {
      closingTimer = setTimeout(() => {
        const cpu = process.cpuUsage(before!.cpu);
        void Promise.resolve(usageNow()).then((usage) => resolve({ usage, cpu }));
      }, options.durationS * 1000);
    });
  };
  const sampler =
    local === undefined
      ? undefined
      : setInterval(() => {
          void usageOf(local.pid).then(
            (usage) => (peakRss = Math.max(peakRss, usage.own.rssBytes)),
          );
        }, 1000);
  let outcome: DriverOutcome;
  let settled: Workload;
  try {
    if (url !== undefined) {
      if (isLegacySse(url) && options.workload.kind === 'connect') {
        throw new RangeError('the connect workload speaks Streamable HTTP, not HTTP+SSE');
      }
      const preflightSession = isLegacySse(url)
        ? await openSseExchange(url, options.requestTimeoutMs)
        : await openExchange(url, options.requestTimeoutMs);
      try {
        settled = await preflight(preflightSession.exchange, options.workload);
      } finally {
        await preflightSession.close();
      }
      outcome = await runHttpLoad(url, settled, options, onTick, onMeasuring);
    } else {
      if (options.workload.kind === 'connect') {
        throw new RangeError('the connect workload opens HTTP sessions: it needs an HTTP target');
      }
      const session = await openStdioSession(local!);
      settled = await preflight(session.exchange, options.workload);
      outcome = await runStdioLoad(session, settled, options, onTick, onMeasuring);
    }
  } finally {
    clearInterval(sampler);
    bar?.stop();
  }
  const end =
    closing === undefined || tally.ok + tally.errors === 0
      ? {
          usage: await usageNow(),
          cpu: before === undefined ? undefined : process.cpuUsage(before.cpu),
        }
      : await closing;
  clearTimeout(closingTimer);
  const after = end.usage;
  const beforeUsage = await before?.usage;
  const windowS =
    options.calls > 0 && measuringSince > 0
      ? (performance.now() - measuringSince) / 1000
      : options.durationS;
  const driverCpu = end.cpu;
  const answered = tally.ok + tally.errors;
  const perCall = (us: number): number => (answered > 0 ? us / answered : 0);
  Object.assign(result, {
    workload: settled,
    windowS,
    ok: tally.ok,
    errors: tally.errors,
    errorKinds: Object.fromEntries(tally.errorKinds),
    abandoned: outcome.abandoned,
    callsPerSecond: tally.ok / windowS,
    latencyUs: tally.latency(),
    percentiles: percentileCurve(tally.histogram),
    series: tally.series(),
    driver: {
      cpuUsPerCall: driverCpu === undefined ? 0 : perCall(driverCpu.user + driverCpu.system),
      threadUtilization: outcome.threadUtilization,
    },
  });
  if (local !== undefined && beforeUsage !== undefined && after !== undefined) {
    const mib = (bytes: number): number => bytes / 1024 / 1024;
    result.process = {
      pid: local.pid,
      cpuUsPerCall: {
        own: perCall((after.own.cpuMs - beforeUsage.own.cpuMs) * 1000),
        // Children that exited in the window take their CPU time with them: a lower bound.
        children: perCall(Math.max(0, after.children.cpuMs - beforeUsage.children.cpuMs) * 1000),
      },
      rssMiB: {
        own: mib(after.own.rssBytes),
        children: mib(after.children.rssBytes),
        ownPeak: mib(Math.max(peakRss, after.own.rssBytes)),
      },
      childCount: after.children.count,
    };
  }
}

/** An HTTP+SSE session for the preflight, in the shape `openExchange` gives. */
async function openSseExchange(
  url: URL,
  timeoutMs: number,
): Promise<{ exchange: Exchange; close: () => Promise<void> }> {
  const session = await SseSession.open(url, timeoutMs, 'mcp-director-bench');
  return { exchange: session.exchange, close: () => session.close() };
}
