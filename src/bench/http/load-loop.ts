/**
 * The calls of one load thread (load-thread.ts) on its connections: a closed-loop lane sends
 * its next call as soon as the last is answered, the open loop starts calls on a schedule.
 * A call is judged and recorded here, and its run stops sending once its window or quota is
 * over.
 */
import type { TickRecorder } from '../tally.js';
import { judgeMessage, listPageBody, nextCursorOf, readHttpAnswer } from '../workload.js';
import type { Workload } from '../options.js';
import type { ResponseSink } from './raw-http.js';

/** After a transport error a lane waits this long, so a dead server is not hammered in a spin. */
const ERROR_BACKOFF_MS = 10;
/** How often the open loop starts the calls that have come due. */
const SCHEDULE_EVERY_MS = 1;

/** One connection as the lanes see it, whichever engine carries it. */
export interface Connection {
  post(body: string, sink: ResponseSink): void;
  /** The raw engine's calls unanswered for too long fail here (undici times out itself). */
  sweep(now: number): void;
  close(): Promise<void>;
}

/** One call in flight; a closed-loop lane reuses one for all its calls. */
export class Call implements ResponseSink {
  id = 0;
  /** When the call was due (open loop) or sent (closed loop), in `performance.now()` ms. */
  startedAt = 0;
  constructor(
    readonly run: LoadRun,
    readonly connection: Connection,
    readonly closedLoop: boolean,
  ) {}

  send(startedAt: number): void {
    this.id = this.run.nextId++;
    this.startedAt = startedAt;
    this.run.inFlight += 1;
    this.connection.post(this.run.body(this.id), this);
  }

  onHttpResponse(status: number, contentType: string, body: string): void {
    const { failure, message } = readHttpAnswer(status, contentType, body, this.id);
    this.#answered(failure, message);
  }

  /** The JSON-RPC answer itself (HTTP+SSE delivers it on the session's stream). */
  onMessage(message: unknown): void {
    this.#answered(judgeMessage(message, this.id), message);
  }

  #answered(failure: string | null, message: unknown): void {
    const cursor = failure === null && this.run.pages ? nextCursorOf(message) : undefined;
    if (cursor === undefined) return this.#end(failure, 0);
    // The next page belongs to the same timed cycle.
    this.id = this.run.nextId++;
    this.connection.post(listPageBody(this.id, cursor), this);
  }

  onHttpError(reason: string): void {
    this.#end(reason, ERROR_BACKOFF_MS);
  }

  /** A cycle judged by its connection (the `connect` workload): null when it succeeded. */
  onVerdict(failure: string | null): void {
    this.#end(failure, failure === null ? 0 : ERROR_BACKOFF_MS);
  }

  #end(failure: string | null, backoffMs: number): void {
    const now = performance.now();
    this.run.inFlight -= 1;
    this.run.finished(now, now - this.startedAt, failure);
    if (!this.closedLoop || !this.run.sending) return;
    if (backoffMs === 0) this.send(performance.now());
    else setTimeout(() => this.run.sending && this.send(performance.now()), backoffMs);
  }
}

export class LoadRun {
  nextId = 1;
  /** `list`: a call is a cycle through every page. */
  readonly pages: boolean;
  inFlight = 0;
  sending = true;
  #onSettled: (() => void) | undefined;

  constructor(
    readonly body: (id: number) => string,
    readonly recorder: TickRecorder,
    readonly stopAt: number,
    readonly quota: number,
    workload: Workload,
  ) {
    this.pages = workload.kind === 'list';
  }

  finished(now: number, latencyMs: number, failure: string | null): void {
    if (now < this.stopAt && this.sending) this.recorder.record(now, latencyMs, failure);
    this.check(now);
  }

  /** Stops sending once the window is over or the quota met; settles when nothing is in flight. */
  check(now: number): void {
    const quotaMet = this.quota > 0 && this.recorder.measured >= this.quota;
    if (this.sending && (now >= this.stopAt || quotaMet)) this.sending = false;
    if (!this.sending && this.inFlight === 0) this.#onSettled?.();
  }

  /** Resolves once sending has stopped and nothing is in flight (an open loop starts idle). */
  settled(): Promise<void> {
    return !this.sending && this.inFlight === 0
      ? Promise.resolve()
      : new Promise((r) => (this.#onSettled = r));
  }
}

export function closedLoop(
  run: LoadRun,
  connections: Connection[],
  pipelining: number,
): () => void {
  const now = performance.now();
  for (const connection of connections) {
    for (let i = 0; i < pipelining; i++) new Call(run, connection, true).send(now);
  }
  return () => {};
}

/** Starts `rate` calls per second, each due at its own time, round-robin over the connections. */
export function openLoop(run: LoadRun, connections: Connection[], rate: number): () => void {
  const begin = performance.now();
  let started = 0;
  const timer = setInterval(() => {
    if (!run.sending) return;
    const due = Math.floor(((performance.now() - begin) * rate) / 1000);
    for (; started < due; started++) {
      const connection = connections[started % connections.length]!;
      new Call(run, connection, false).send(begin + (started * 1000) / rate);
    }
  }, SCHEDULE_EVERY_MS);
  return () => clearInterval(timer);
}
