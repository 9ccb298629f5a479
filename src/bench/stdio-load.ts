/**
 * Load over a stdio server's pipes: one session, newline-delimited JSON-RPC, `connections`
 * calls in flight (closed loop) or calls started on a schedule (open loop, `rate`). Runs on
 * the main thread: one pipe needs one reader, and its parsing is a small share of the
 * server's own work per call.
 */
import { createInterface } from 'node:readline';
import type { LoadOptions } from './options.js';
import { CALLS_MAX_DURATION_S } from './options.js';
import type { LocalProcess } from './local-process.js';
import { exchangeOver } from './preflight.js';
import type { AnswersById, Exchange } from './preflight.js';
import { TickRecorder } from './tally.js';
import type { Tick } from './tally.js';
import {
  clip,
  judgeMessage,
  listPageBody,
  nextCursorOf,
  parseJson,
  requestBodies,
} from './workload.js';
import type { Workload } from './options.js';
import type { DriverOutcome } from './http/http-load.js';
import { initializeBody } from './http/mcp-http.js';

type Waiter = (message: unknown, failure?: string) => void;

/** A JSON-RPC conversation on a child's stdin and stdout. */
export class StdioSession implements AnswersById {
  readonly #waiting = new Map<number, Waiter>();
  readonly #target: LocalProcess;
  #closed: string | undefined;

  constructor(target: LocalProcess) {
    this.#target = target;
    const lines = createInterface({ input: target.child.stdout! });
    lines.on('line', (line) => this.#receive(line));
    target.child.once('exit', (code, signal) => {
      this.#closed = `the server exited (code ${code}, signal ${signal})`;
      for (const waiter of this.#waiting.values()) waiter(undefined, this.#closed);
      this.#waiting.clear();
    });
  }

  get closed(): string | undefined {
    return this.#closed;
  }

  /** Sends one request; `onAnswer` gets its response (undefined if the server exits first). */
  send(body: string, id: number, onAnswer: Waiter): void {
    if (this.#closed !== undefined) return onAnswer(undefined, this.#closed);
    this.#waiting.set(id, onAnswer);
    this.#target.child.stdin!.write(`${body}\n`);
  }

  /** Forgets a request: a late answer to it is dropped. */
  forget(id: number): void {
    this.#waiting.delete(id);
  }

  /** Preflight requests wait 10 s at most. */
  readonly exchange: Exchange = exchangeOver(this, 10_000);

  notify(body: string): void {
    if (this.#closed === undefined) this.#target.child.stdin!.write(`${body}\n`);
  }

  #receive(line: string): void {
    const message = parseJson(line) as { id?: unknown; method?: unknown } | undefined;
    if (typeof message !== 'object' || message === null) return;
    if (typeof message.method === 'string') {
      // A request of the server's (sampling, roots, …): a benchmark client offers none.
      if (message.id !== undefined) {
        this.notify(
          JSON.stringify({
            jsonrpc: '2.0',
            id: message.id,
            error: { code: -32601, message: 'Method not found' },
          }),
        );
      }
      return;
    }
    if (typeof message.id !== 'number') return;
    const waiter = this.#waiting.get(message.id);
    if (waiter === undefined) return;
    this.#waiting.delete(message.id);
    waiter(message);
  }
}

/** initialize and notifications/initialized over the pipes. */
export async function openStdioSession(target: LocalProcess): Promise<StdioSession> {
  const session = new StdioSession(target);
  const id = 0;
  const answer = await session.exchange(initializeBody('mcp-director-bench'), id);
  const failure = judgeMessage(answer, id);
  if (failure !== null)
    throw new Error(`initialize failed: ${failure}: ${clip(JSON.stringify(answer))}`);
  session.notify('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  return session;
}

export async function runStdioLoad(
  session: StdioSession,
  workload: Workload,
  options: LoadOptions,
  onTick: (tick: Tick) => void,
  onMeasuring: () => void,
): Promise<DriverOutcome> {
  const begin = performance.now();
  const measureFrom = begin + options.warmupS * 1000;
  const stopAt =
    measureFrom + (options.calls > 0 ? CALLS_MAX_DURATION_S : options.durationS) * 1000;
  const recorder = new TickRecorder(measureFrom, onTick);
  const body = requestBodies(workload);
  const inFlight = new Map<number, number>(); // id → started at
  let nextId = 1;
  let sending = true;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));

  const finished = (now: number, started: number, failure: string | null): void => {
    if (sending && now < stopAt) recorder.record(now, now - started, failure);
    check(now);
  };
  const check = (now: number): void => {
    const quotaMet = options.calls > 0 && recorder.measured >= options.calls;
    if (sending && (now >= stopAt || quotaMet || session.closed !== undefined)) sending = false;
    if (!sending && inFlight.size === 0) settle();
  };
  const pages = workload.kind === 'list';
  const start = (startedAt: number, closedLoop: boolean, cursor?: string): void => {
    const id = nextId++;
    inFlight.set(id, startedAt);
    const request = cursor === undefined ? body(id) : listPageBody(id, cursor);
    session.send(request, id, (message) => {
      if (!inFlight.delete(id)) return;
      const failure = message === undefined ? 'server exited' : judgeMessage(message, id);
      // `list`: the next page belongs to the same timed cycle.
      const next = failure === null && pages ? nextCursorOf(message) : undefined;
      if (next !== undefined) return start(startedAt, closedLoop, next);
      finished(performance.now(), startedAt, failure);
      if (closedLoop && sending) start(performance.now(), true);
    });
  };

  const ticker = setInterval(() => {
    const now = performance.now();
    recorder.flush();
    for (const [id, startedAt] of inFlight) {
      if (now - startedAt <= options.requestTimeoutMs) continue;
      inFlight.delete(id);
      session.forget(id);
      finished(now, startedAt, 'timeout');
    }
    check(now);
  }, 250);
  const measuring = setTimeout(onMeasuring, options.warmupS * 1000);
  let schedule: NodeJS.Timeout | undefined;
  if (options.rate > 0) {
    let started = 0;
    schedule = setInterval(() => {
      if (!sending) return;
      const due = Math.floor(((performance.now() - begin) * options.rate) / 1000);
      for (; started < due; started++) start(begin + (started * 1000) / options.rate, false);
    }, 1);
  } else {
    for (let lane = 0; lane < options.connections; lane++) start(begin, true);
  }
  const giveUp = new Promise<void>((resolve) =>
    setTimeout(resolve, stopAt - begin + options.requestTimeoutMs + 1000).unref(),
  );
  await Promise.race([settled, giveUp]);
  clearInterval(ticker);
  clearInterval(schedule);
  clearTimeout(measuring);
  recorder.flush();
  return { abandoned: inFlight.size, threadUtilization: [] };
}
