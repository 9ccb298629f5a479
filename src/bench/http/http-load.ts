/**
 * HTTP load from worker threads (load-thread.ts): the connections and sessions spread over
 * `threads` threads so the driver is not the bottleneck, their ticks forwarded as they come.
 */
import { Worker } from 'node:worker_threads';
import type { LoadOptions } from '../options.js';
import { CALLS_MAX_DURATION_S, share } from '../options.js';
import type { Tick } from '../tally.js';
import { isLegacySse } from '../targets.js';
import type { Workload } from '../options.js';
import type { LoadThreadConfig, LoadThreadMessage, StartMessage } from './load-thread.js';

export interface DriverOutcome {
  /** Calls still unanswered when the driver stopped waiting (counted nowhere else). */
  abandoned: number;
  /** Event-loop utilization of each driver thread in the window: near 1 = driver-bound. */
  threadUtilization: number[];
}

/** How long the threads may take to open their sessions. */
const SETUP_TIMEOUT_MS = 30_000;

export async function runHttpLoad(
  url: URL,
  workload: Workload,
  options: LoadOptions,
  onTick: (tick: Tick) => void,
  onMeasuring: () => void,
): Promise<DriverOutcome> {
  const threads = Math.min(options.threads, options.connections);
  const connections = share(options.connections, threads);
  const sessions = share(Math.max(options.sessions, threads), threads);
  const calls = share(options.calls, threads);
  const rates = connections.map((c) => (options.rate * c) / options.connections);
  const workers = connections.map(
    (count, threadIndex) =>
      new Worker(new URL('./load-thread.js', import.meta.url), {
        workerData: {
          origin: url.origin,
          path: url.pathname + url.search,
          sessions: Math.min(sessions[threadIndex]!, count),
          connections: count,
          pipelining: options.pipelining,
          engine: options.engine,
          workload,
          rate: rates[threadIndex]!,
          calls: calls[threadIndex]!,
          requestTimeoutMs: options.requestTimeoutMs,
          threadIndex,
          legacySse: isLegacySse(url),
        } satisfies LoadThreadConfig,
      }),
  );
  const inboxes = workers.map((worker) => new Inbox(worker, onTick));
  try {
    await withTimeout(
      Promise.all(inboxes.map((inbox) => inbox.next('ready'))),
      SETUP_TIMEOUT_MS,
      'the load threads did not open their MCP sessions',
    );
    const durationMs = (options.calls > 0 ? CALLS_MAX_DURATION_S : options.durationS) * 1000;
    const start: StartMessage = { type: 'start', warmupMs: options.warmupS * 1000, durationMs };
    const done = inboxes.map((inbox) => inbox.next('done'));
    for (const worker of workers) worker.postMessage(start);
    const measuring = setTimeout(onMeasuring, start.warmupMs);
    try {
      const reports = await withTimeout(
        Promise.all(done),
        start.warmupMs + durationMs + options.requestTimeoutMs + 5000,
        'the load threads did not finish',
      );
      return {
        abandoned: reports.reduce((sum, report) => sum + report.abandoned, 0),
        threadUtilization: reports.map((report) => report.utilization),
      };
    } finally {
      clearTimeout(measuring);
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Messages of one thread, awaited by type; an exit or error before it rejects. */
class Inbox {
  readonly #waiting = new Map<string, (message: LoadThreadMessage) => void>();
  readonly #rejecters = new Set<(error: Error) => void>();
  #failure: Error | undefined;

  constructor(worker: Worker, onTick: (tick: Tick) => void) {
    worker.on('message', (message: LoadThreadMessage) => {
      if (message.type === 'tick') return onTick(message.tick);
      if (message.type === 'failed') return this.#fail(new Error(message.error));
      this.#waiting.get(message.type)?.(message);
    });
    worker.on('error', (error) => this.#fail(error));
    worker.on('exit', (code) => this.#fail(new Error(`a load thread exited with code ${code}`)));
  }

  next<T extends LoadThreadMessage['type']>(
    type: T,
  ): Promise<Extract<LoadThreadMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#failure !== undefined) return reject(this.#failure);
      this.#rejecters.add(reject);
      this.#waiting.set(type, (message) => {
        this.#rejecters.delete(reject);
        resolve(message as Extract<LoadThreadMessage, { type: T }>);
      });
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const reject of this.#rejecters) reject(this.#failure);
    this.#rejecters.clear();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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
