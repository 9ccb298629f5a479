/**
 * MCP tools/call load driver: `runLoad()` for bench/run.ts, and a CLI.
 *
 * Spreads `connections` over `threads` worker threads (bench/load-worker.ts), each with its
 * own connections and MCP session, so the driver is not the bottleneck the fetch-based one
 * was (docs/architecture.md#the-load-driver). A preflight on the main thread first checks that
 * the server answers initialize, lists the tool and answers one call, so a broken server fails
 * fast with its own words instead of as a wall of error counts.
 *
 * The default engine is `raw` (bench/raw-http.ts), not undici: on the 2-vCPU dev VM every
 * microsecond the driver spends is taken from the server under test, and undici spent
 * 1.2–1.7× the CPU per call of the raw client in every paired run, and never pipelines
 * POSTs (noop server, 16 connections × 16 pipelined: 8–10k calls/s with undici, 33–49k
 * with raw). bench/README.md has the figures. `--engine undici`
 * remains available, and undici always carries the handshake and the preflight.
 *
 *   node dist/bench/load-driver.js --url http://127.0.0.1:8080/mcp --connections 16 \
 *     --threads 2 --duration 10 --warmup 3 --tool echo --args '{"text":"hi"}'
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { formatMicroseconds, numberFlag } from './format.js';
import { Histogram } from './histogram.js';
import { clip, judgeResponse, openSession, post, toolCallBodyFactory } from './mcp-http.js';
import type {
  Engine,
  LoadWorkerConfig,
  LoadWorkerMessage,
  StartMessage,
  ThreadReport,
} from './load-worker.js';

export interface LoadOptions {
  /** The MCP endpoint, e.g. http://127.0.0.1:8080/mcp. */
  url: string;
  /** Total keep-alive connections, spread over the threads. */
  connections: number;
  /** Worker threads issuing calls. */
  threads: number;
  /** Measured seconds (after the warm-up). */
  durationS: number;
  /**
   * Seconds of load before measuring starts: JIT, connections, backends. The SDK's HTTP
   * server needed ~2 s under load on the dev VM before its rate settled.
   */
  warmupS: number;
  /** Requests in flight per connection (1 = no HTTP pipelining). */
  pipelining: number;
  /** HTTP client carrying the calls: undici, or the leaner bench/raw-http.ts. */
  engine: Engine;
  tool: string;
  args: unknown;
  /** A call unanswered after this long counts as an error. */
  requestTimeoutMs: number;
}

export const defaultLoadOptions: Omit<LoadOptions, 'url'> = {
  connections: 16,
  threads: 2,
  durationS: 10,
  warmupS: 3,
  pipelining: 1,
  engine: 'raw',
  tool: 'echo',
  args: { text: 'x'.repeat(180) },
  requestTimeoutMs: 10_000,
};

export interface LoadResult {
  options: LoadOptions;
  /** Threads actually started (never more than connections). */
  threads: number;
  callsPerSecond: number;
  ok: number;
  errors: number;
  /** Error reason → count, e.g. `HTTP 503`, `wrong id`, `transport UND_ERR_SOCKET`. */
  errorKinds: Record<string, number>;
  /** Calls still unanswered when the driver stopped waiting (not counted as errors). */
  abandoned: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Event-loop utilization of each driver thread over the window: near 1 = driver-bound. */
  threadUtilization: number[];
  /** CPU time the driver spent per call in the window (all its threads). */
  driverCpuUsPerCall: number;
}

export const ENGINES: readonly Engine[] = ['undici', 'raw'];

/** How long the threads may take to open their sessions before the run is abandoned. */
const SETUP_TIMEOUT_MS = 15_000;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  validate(options);
  const url = new URL(options.url);
  const path = url.pathname + url.search;
  await preflight(url.origin, path, options);

  const shares = splitConnections(options.connections, options.threads);
  const workers = shares.map(
    (connections, threadIndex) =>
      new Worker(new URL('./load-worker.js', import.meta.url), {
        workerData: {
          origin: url.origin,
          path,
          connections,
          pipelining: options.pipelining,
          engine: options.engine,
          tool: options.tool,
          args: options.args,
          requestTimeoutMs: options.requestTimeoutMs,
          threadIndex,
        } satisfies LoadWorkerConfig,
      }),
  );
  try {
    const inbox = workers.map((worker) => new Inbox(worker));
    await withTimeout(
      Promise.all(inbox.map((box) => box.next('ready'))),
      SETUP_TIMEOUT_MS,
      'load threads did not open their MCP sessions',
    );
    const start: StartMessage = {
      type: 'start',
      warmupMs: options.warmupS * 1000,
      durationMs: options.durationS * 1000,
    };
    const done = inbox.map((box) => box.next('done'));
    for (const worker of workers) worker.postMessage(start);
    const driverCpuUs = measureWindowCpu(start.warmupMs, start.durationMs);
    const reports = await withTimeout(
      Promise.all(done),
      start.warmupMs + start.durationMs + options.requestTimeoutMs + 5000,
      'load threads did not finish',
    );
    const result = summarize(
      options,
      reports.map((message) => message.report),
    );
    const cpuUs = await driverCpuUs;
    result.driverCpuUsPerCall =
      result.ok + result.errors > 0 ? cpuUs / (result.ok + result.errors) : 0;
    return result;
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * CPU time of this process over the measured window. The main thread only sleeps meanwhile,
 * so this is what the driver threads spent: the part of the machine the driver took away
 * from the server under test.
 */
function measureWindowCpu(warmupMs: number, durationMs: number): Promise<number> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const from = process.cpuUsage();
      setTimeout(() => {
        const used = process.cpuUsage(from);
        resolve(used.user + used.system);
      }, durationMs);
    }, warmupMs);
  });
}

/** One session, the tool listed, one call answered: otherwise the run would only count errors. */
async function preflight(origin: string, path: string, options: LoadOptions): Promise<void> {
  const client = new Client(origin);
  try {
    const session = await openSession(client, path, options.requestTimeoutMs, 'mcp-director-bench');
    const names = await listToolNames(client, path, session.headers, options.requestTimeoutMs);
    if (!names.includes(options.tool)) {
      throw new Error(`tool '${options.tool}' is not listed; tools/list has: ${names.join(', ')}`);
    }
    const id = 1_000_000_000;
    const call = await post(
      client,
      path,
      session.headers,
      toolCallBodyFactory(options.tool, options.args)(id),
      options.requestTimeoutMs,
    );
    const failure = judgeResponse(call.status, call.contentType, call.body, id);
    if (failure !== null) throw new Error(`tools/call failed: ${failure}: ${clip(call.body)}`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`preflight against ${origin}${path} failed: ${reason}`);
  } finally {
    await client.destroy();
  }
}

async function listToolNames(
  client: Client,
  path: string,
  headers: string[],
  timeoutMs: number,
): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  // Bounded: a server that pages forever is reported with what was seen so far.
  for (let page = 0; page < 100; page++) {
    const id = 999_000 + page;
    const params = cursor === undefined ? {} : { cursor };
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params });
    const response = await post(client, path, headers, body, timeoutMs);
    const failure = judgeResponse(response.status, response.contentType, response.body, id);
    if (failure !== null) throw new Error(`tools/list failed: ${failure}: ${clip(response.body)}`);
    const result = extractResult(response.contentType, response.body) as {
      tools?: { name?: unknown }[];
      nextCursor?: unknown;
    };
    for (const tool of result.tools ?? []) if (typeof tool.name === 'string') names.push(tool.name);
    if (typeof result.nextCursor !== 'string') break;
    cursor = result.nextCursor;
  }
  return names;
}

function extractResult(contentType: string, body: string): unknown {
  let text = body;
  if (contentType.startsWith('text/event-stream')) {
    // judgeResponse already checked there is a response; the last data line carries it.
    const dataLines = body.split(/\r?\n/).filter((line) => line.startsWith('data:'));
    text = (dataLines.at(-1) ?? '').replace(/^data: ?/, '');
  }
  return (JSON.parse(text) as { result?: unknown }).result ?? {};
}

function summarize(options: LoadOptions, reports: ThreadReport[]): LoadResult {
  const histogram = new Histogram();
  const errorKinds: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let abandoned = 0;
  for (const report of reports) {
    histogram.merge(report.histogram);
    ok += report.ok;
    errors += report.errors;
    abandoned += report.abandoned;
    for (const [kind, count] of Object.entries(report.errorKinds)) {
      errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
    }
  }
  return {
    options,
    threads: reports.length,
    callsPerSecond: ok / options.durationS,
    ok,
    errors,
    errorKinds,
    abandoned,
    latencyUs: {
      p50: histogram.percentile(50),
      p90: histogram.percentile(90),
      p99: histogram.percentile(99),
      max: histogram.total === 0 ? 0 : histogram.maxUs,
      mean: histogram.mean(),
    },
    threadUtilization: reports.map((report) => report.utilization),
    driverCpuUsPerCall: 0,
  };
}

/** Connections per thread: as even as possible, and no thread without a connection. */
export function splitConnections(connections: number, threads: number): number[] {
  const used = Math.min(threads, connections);
  return Array.from(
    { length: used },
    (_, i) => Math.floor(connections / used) + (i < connections % used ? 1 : 0),
  );
}

function validate(options: LoadOptions): void {
  const positiveIntegers = ['connections', 'threads', 'pipelining', 'requestTimeoutMs'] as const;
  for (const key of positiveIntegers) {
    if (!Number.isInteger(options[key]) || options[key] < 1) {
      throw new RangeError(`${key} must be a positive integer, got ${options[key]}`);
    }
  }
  if (!(options.durationS > 0)) throw new RangeError('durationS must be > 0');
  if (!(options.warmupS >= 0)) throw new RangeError('warmupS must be >= 0');
  if (options.tool === '') throw new RangeError('tool must not be empty');
  if (!ENGINES.includes(options.engine)) {
    throw new RangeError(`engine must be one of ${ENGINES.join(', ')}, got ${options.engine}`);
  }
}

/** Messages of one worker, awaited by type; an exit or error before it rejects. */
class Inbox {
  private readonly waiting = new Map<string, (message: LoadWorkerMessage) => void>();
  private failure: Error | undefined;
  private readonly rejecters = new Set<(error: Error) => void>();

  constructor(worker: Worker) {
    worker.on('message', (message: LoadWorkerMessage) => {
      if (message.type === 'failed') return this.fail(new Error(message.error));
      this.waiting.get(message.type)?.(message);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`load thread exited with code ${code}`)));
  }

  next<T extends LoadWorkerMessage['type']>(
    type: T,
  ): Promise<Extract<LoadWorkerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) return reject(this.failure);
      this.rejecters.add(reject);
      this.waiting.set(type, (message) => {
        this.rejecters.delete(reject);
        resolve(message as Extract<LoadWorkerMessage, { type: T }>);
      });
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const reject of this.rejecters) reject(this.failure);
    this.rejecters.clear();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each driver thread's event-loop utilization, e.g. `97% 95%`. */
export function busy(result: LoadResult): string {
  return result.threadUtilization.map((u) => `${Math.round(u * 100)}%`).join(' ');
}

export function formatLoadResult(result: LoadResult): string {
  const { options: o, latencyUs: l } = result;
  const lines = [
    `url ${o.url}  tool ${o.tool}  connections ${o.connections}  threads ${result.threads}  ` +
      `pipelining ${o.pipelining}  engine ${o.engine}  warmup ${o.warmupS}s  duration ${o.durationS}s`,
    `calls/s ${Math.round(result.callsPerSecond)}  ok ${result.ok}  errors ${result.errors}` +
      (result.abandoned > 0 ? `  abandoned ${result.abandoned}` : ''),
    `latency p50 ${formatMicroseconds(l.p50)}  p90 ${formatMicroseconds(l.p90)}  ` +
      `p99 ${formatMicroseconds(l.p99)}  max ${formatMicroseconds(l.max)}`,
    `driver CPU ${result.driverCpuUsPerCall.toFixed(1)} µs/call, threads busy ${busy(result)}`,
  ];
  for (const [kind, count] of Object.entries(result.errorKinds)) {
    lines.push(`  error ${kind}: ${count}`);
  }
  return lines.join('\n');
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      pipelining: { type: 'string' },
      engine: { type: 'string' },
      tool: { type: 'string' },
      args: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.url === undefined) {
    throw new Error(
      'usage: load-driver --url <mcp endpoint> [--connections 16] [--threads 2] [--duration 10] ' +
        '[--warmup 3] [--pipelining 1] [--engine raw|undici] [--tool echo] [--args JSON] [--timeout ms] [--json]',
    );
  }
  const d = defaultLoadOptions;
  const result = await runLoad({
    url: values.url,
    connections: numberFlag(values.connections, d.connections),
    threads: numberFlag(values.threads, d.threads),
    durationS: numberFlag(values.duration, d.durationS),
    warmupS: numberFlag(values.warmup, d.warmupS),
    pipelining: numberFlag(values.pipelining, d.pipelining),
    engine: (values.engine ?? d.engine) as Engine,
    tool: values.tool ?? d.tool,
    args: values.args === undefined ? d.args : (JSON.parse(values.args) as unknown),
    requestTimeoutMs: numberFlag(values.timeout, d.requestTimeoutMs),
  });
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`node ${process.version}, ${availableParallelism()} CPUs\n`);
    process.stdout.write(`${formatLoadResult(result)}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
