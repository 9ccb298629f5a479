/**
 * Chooses the supervisor ⇄ shard message encoding: round trips of the project's real
 * message shapes (a tools/call `CallMessage` out, a `ReplyMessage` with a ~300-byte result
 * back) between the main thread and one worker, with 1 and 64 calls in flight, for each
 * transport of bench/thread-transports.ts. Cells run in rotated order over several rounds
 * and the median of each figure is printed, because this VM's neighbours add noise.
 *
 *   node dist/bench/thread-encoding.js [--duration 2] [--warmup 0.5] [--rounds 3]
 *                                      [--inflight 1,64] [--modes clone,batched,msgpackr,eager]
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { CallMessage, SupervisorMessage, WorkerMessage } from '../src/shared/messages.js';
import { createHistogram, recordMicroseconds } from '../src/bench/histogram.js';
import { formatMicroseconds } from '../src/bench/results.js';
import { formatTable } from '../src/shared/text-table.js';
import { numberFlag } from './flags.js';
import type { EncodingWorkerData } from './thread-encoding-worker.js';
import { TRANSPORT_MODES, openTransport } from './thread-transports.js';
import type { TransportMode } from './thread-transports.js';

interface CellResult {
  mode: TransportMode;
  inflight: number;
  roundTripsPerS: number;
  p50Us: number;
  p99Us: number;
  /** CPU time of the whole process (both threads) per round trip. */
  cpuUsPerRoundTrip: number;
}

const SESSION = '5b0c8f0e-4f7e-4a59-9d7e-2f1f7c1e9a42';
const ARGUMENT_TEXT = 'x'.repeat(180);

/** A call as the supervisor builds it for `tools/call echo__echo` (fresh object per call). */
function callMessage(callId: number): CallMessage {
  return {
    type: 'call',
    callId,
    server: 'echo',
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text: ARGUMENT_TEXT },
      _meta: { progressToken: `p-${callId}` },
    },
    timeoutMs: 60_000,
    target: 'echo',
    context: {
      session: SESSION,
      profile: 'default',
      client: 'claude-code',
      era: 'legacy',
      identity: '',
      project: '',
      projectName: '',
    },
    clientCapabilities: { sampling: {}, elicitation: {}, roots: {} },
    logLevel: undefined,
  };
}

async function measureCell(
  mode: TransportMode,
  inflight: number,
  warmupMs: number,
  durationMs: number,
): Promise<CellResult> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./thread-encoding-worker.js', import.meta.url), {
    workerData: { mode, port: port2 } satisfies EncodingWorkerData,
    transferList: [port2],
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });

  // Replies come back in order, so the outstanding ids are always the last `inflight` ones.
  const capacity = Math.max(1024, inflight * 2);
  const sentAt = new Float64Array(capacity);
  const histogram = createHistogram();
  let nextId = 1;
  let completed = 0;
  let running = true;

  const link = openTransport<SupervisorMessage, WorkerMessage>(mode, port1, (message) => {
    if (message.type !== 'reply') return;
    recordMicroseconds(histogram, (performance.now() - sentAt[message.callId % capacity]!) * 1000);
    completed += 1;
    if (running) send();
  });
  const send = (): void => {
    const callId = nextId++;
    sentAt[callId % capacity] = performance.now();
    link.send(callMessage(callId));
  };

  for (let i = 0; i < inflight; i++) send();
  await sleep(warmupMs);
  histogram.reset();
  completed = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await sleep(durationMs);
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const done = completed;
  running = false;
  link.close();
  await worker.terminate();

  return {
    mode,
    inflight,
    roundTripsPerS: (done / elapsedMs) * 1000,
    p50Us: histogram.getValueAtPercentile(50),
    p99Us: histogram.getValueAtPercentile(99),
    cpuUsPerRoundTrip: done === 0 ? 0 : (cpu.user + cpu.system) / done,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianCell(cells: CellResult[]): CellResult {
  const first = cells[0]!;
  return {
    mode: first.mode,
    inflight: first.inflight,
    roundTripsPerS: median(cells.map((c) => c.roundTripsPerS)),
    p50Us: median(cells.map((c) => c.p50Us)),
    p99Us: median(cells.map((c) => c.p99Us)),
    cpuUsPerRoundTrip: median(cells.map((c) => c.cpuUsPerRoundTrip)),
  };
}

/** Differences smaller than this are inside the run-to-run noise of the dev VM. */
const NOISE = 0.1;

const ADVICE: Record<TransportMode, string> = {
  batched: "keep createLink's default (batch: true, structured clone)",
  clone: 'make createLink default to batch: false (one postMessage per message)',
  msgpackr: "pack each batch with msgpackr in link.ts's flush() and post an exact-size copy",
  eager:
    "change createLink's batching to post the first message of a turn at once and batch " +
    'only the rest',
};

/**
 * One line saying which transport to use, derived from the figures. What decides is the CPU
 * a round trip costs under load (the highest in-flight count): in the daemon the hop shares
 * two cores with uWS, the backends and the analytics, so CPU it saves is throughput
 * elsewhere. Raw round trips/s of this two-thread ping-pong are not the criterion: with
 * idle cores per-message posting keeps both threads busy at once and wins on rate while
 * spending more CPU per message. The incumbent is createLink's default (`batched`);
 * another mode replaces it only if it is cheaper under load beyond the noise without a
 * lone call (lowest in-flight count) getting slower beyond the noise, or costs the same
 * and makes a lone call faster beyond the noise.
 */
export function verdict(results: CellResult[]): string {
  const loads = [...new Set(results.map((r) => r.inflight))].sort((x, y) => x - y);
  const high = loads.at(-1)!;
  const low = loads[0]!;
  const cell = (mode: TransportMode, inflight: number): CellResult | undefined =>
    results.find((r) => r.mode === mode && r.inflight === inflight);
  const cpu = (mode: TransportMode): number => cell(mode, high)?.cpuUsPerRoundTrip ?? Infinity;
  const loneRate = (mode: TransportMode): number => cell(mode, low)?.roundTripsPerS ?? 0;
  const incumbent: TransportMode = 'batched';
  const modes = [...new Set(results.map((r) => r.mode))];
  if (!modes.includes(incumbent)) return 'verdict: needs the batched mode to compare against';

  const cheaper = (mode: TransportMode): number => 1 - cpu(mode) / cpu(incumbent);
  const loneGain = (mode: TransportMode): number => loneRate(mode) / loneRate(incumbent) - 1;
  const better = modes
    .filter((mode) => mode !== incumbent)
    .filter(
      (mode) =>
        (cheaper(mode) > NOISE && loneGain(mode) > -NOISE) ||
        (cheaper(mode) > -NOISE && loneGain(mode) > NOISE),
    )
    .sort((x, y) => cheaper(y) + loneGain(y) - (cheaper(x) + loneGain(x)));
  const choice = better[0] ?? incumbent;
  const figures = modes
    .map(
      (mode) =>
        `${mode} ${cpu(mode).toFixed(1)} µs and ` +
        `${Math.round((cell(mode, high)?.roundTripsPerS ?? 0) / 1000)}k/s @${high}, ` +
        `${(loneRate(mode) / 1000).toFixed(1)}k/s @${low}`,
    )
    .join('; ');
  return (
    `verdict: ${ADVICE[choice]}. CPU per round trip and round trips/s: ${figures} ` +
    `(differences under ${NOISE * 100}% count as noise).`
  );
}

function printResults(results: CellResult[]): void {
  const header = ['mode', 'in flight', 'round trips/s', 'p50', 'p99', 'CPU/round trip'];
  const rows = results.map((r) => [
    r.mode,
    String(r.inflight),
    String(Math.round(r.roundTripsPerS)),
    formatMicroseconds(r.p50Us),
    formatMicroseconds(r.p99Us),
    `${r.cpuUsPerRoundTrip.toFixed(1)} µs`,
  ]);
  process.stdout.write(`${formatTable(header, rows)}\n\n${verdict(results)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      inflight: { type: 'string' },
      modes: { type: 'string' },
    },
  });
  const durationMs = numberFlag(values.duration, 2) * 1000;
  const warmupMs = numberFlag(values.warmup, 0.5) * 1000;
  const rounds = numberFlag(values.rounds, 3);
  const inflights = (values.inflight ?? '1,64').split(',').map((n) => numberFlag(n, 1));
  const modes = (values.modes?.split(',') ?? [...TRANSPORT_MODES]) as TransportMode[];
  for (const mode of modes) {
    if (!TRANSPORT_MODES.includes(mode)) throw new Error(`unknown mode ${mode}`);
  }
  if (!inflights.every((n) => Number.isInteger(n) && n >= 1) || !(rounds >= 1)) {
    throw new Error('--inflight takes positive integers and --rounds must be >= 1');
  }

  process.stdout.write(
    `thread encoding, ${new Date().toISOString()}: ${availableParallelism()} × ` +
      `${cpus()[0]?.model ?? 'CPU'}, node ${process.version}, load average ` +
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n` +
      `${rounds} rounds × ${modes.length} modes × in flight ${inflights.join('/')}, ` +
      `${warmupMs / 1000} s warm-up + ${durationMs / 1000} s each; medians shown\n\n`,
  );
  const cells = new Map<string, CellResult[]>();
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so slow drifts of the machine's load do not favour one mode.
    const order = modes.map((_, i) => modes[(i + round) % modes.length]!);
    for (const inflight of inflights) {
      for (const mode of order) {
        const result = await measureCell(mode, inflight, warmupMs, durationMs);
        const key = `${mode}/${inflight}`;
        cells.set(key, [...(cells.get(key) ?? []), result]);
        process.stderr.write(`round ${round + 1} ${key}: ${Math.round(result.roundTripsPerS)}/s\n`);
      }
    }
  }
  const results = inflights.flatMap((inflight) =>
    modes.map((mode) => medianCell(cells.get(`${mode}/${inflight}`)!)),
  );
  printResults(results);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
