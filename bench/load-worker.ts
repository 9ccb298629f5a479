/**
 * One load-driver thread: `connections` keep-alive connections to the server under test,
 * one MCP session, and `pipelining` lanes per connection that each keep one tools/call in
 * flight. No promise or stream per request: a lane is a reused object called back when
 * its response is complete, which is what lets one Node thread issue many thousands of
 * calls per second (fetch tops out near 2.8k/s on the dev box,
 * docs/architecture.md#the-load-driver).
 *
 * Two engines carry the calls (the session handshake always uses undici):
 * - `undici`: one undici Client per connection, calls through its dispatch API. Each lane
 *   is bound to its own Client rather than sharing a Pool, so the in-flight count per
 *   connection is exact (as with wrk) and requests never pile up on fewer sockets.
 * - `raw`: bench/raw-http.ts, a minimal HTTP/1.1 client that spends 20–40% less CPU per
 *   call than undici and corks the writes made while handling one read into one syscall.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import { Histogram } from './histogram.js';
import type { HistogramData } from './histogram.js';
import { headerValue, judgeResponse, openSession, toolCallBodyFactory } from './mcp-http.js';
import { RawHttpConnection } from './raw-http.js';
import type { ResponseSink } from './raw-http.js';

export type Engine = 'undici' | 'raw';

export interface LoadWorkerConfig {
  origin: string;
  path: string;
  connections: number;
  pipelining: number;
  engine: Engine;
  tool: string;
  args: unknown;
  requestTimeoutMs: number;
  threadIndex: number;
}

export interface StartMessage {
  type: 'start';
  warmupMs: number;
  durationMs: number;
}

export interface ThreadReport {
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  histogram: HistogramData;
  /** Calls still unanswered when the thread gave up waiting after the window. */
  abandoned: number;
  /**
   * Event-loop utilization of this thread over the window (0–1). Near 1 means the driver
   * thread itself was the limit, not the server.
   */
  utilization: number;
}

export type LoadWorkerMessage =
  { type: 'ready' } | { type: 'failed'; error: string } | { type: 'done'; report: ThreadReport };

/** After a transport error a lane waits this long, so a dead server is not hammered in a spin. */
const ERROR_BACKOFF_MS = 10;

/** One connection as the lanes see it, whichever engine carries it. */
interface Connection {
  post(body: string, sink: ResponseSink): void;
  close(): Promise<void>;
}

class LoadRun {
  readonly histogram = new Histogram();
  readonly errorKinds = new Map<string, number>();
  ok = 0;
  errors = 0;
  nextId = 1;
  measureFrom = Infinity;
  stopAt = Infinity;
  busyLanes = 0;
  /** Event-loop utilization over the window, sampled by the first call ending past each edge. */
  utilization = 0;
  private windowStartElu: EventLoopUtilization | undefined;
  private onIdle: (() => void) | undefined;

  constructor(readonly body: (id: number) => string) {}

  /** Called by a lane when its call ended; returns whether the lane should go on. */
  complete(startedAt: number, failure: string | null): boolean {
    const now = performance.now();
    if (now >= this.measureFrom && this.windowStartElu === undefined) {
      this.windowStartElu = performance.eventLoopUtilization();
    }
    if (now >= this.stopAt && this.utilization === 0 && this.windowStartElu !== undefined) {
      this.utilization = performance.eventLoopUtilization(this.windowStartElu).utilization;
    }
    if (now >= this.measureFrom && now < this.stopAt) {
      if (failure === null) {
        this.ok += 1;
        this.histogram.record((now - startedAt) * 1000);
      } else {
        this.errors += 1;
        this.errorKinds.set(failure, (this.errorKinds.get(failure) ?? 0) + 1);
      }
    }
    if (now < this.stopAt) return true;
    this.busyLanes -= 1;
    if (this.busyLanes === 0) this.onIdle?.();
    return false;
  }

  whenIdle(): Promise<void> {
    return this.busyLanes === 0
      ? Promise.resolve()
      : new Promise((resolve) => (this.onIdle = resolve));
  }
}

/** Keeps one call in flight on its connection, for the whole run. */
class Lane implements ResponseSink {
  private id = 0;
  private startedAt = 0;

  constructor(
    private readonly run: LoadRun,
    private readonly connection: Connection,
  ) {}

  issue(): void {
    this.id = this.run.nextId++;
    this.startedAt = performance.now();
    this.connection.post(this.run.body(this.id), this);
  }

  onHttpResponse(status: number, contentType: string, body: string): void {
    const failure = judgeResponse(status, contentType, body, this.id);
    if (this.run.complete(this.startedAt, failure)) this.issue();
  }

  onHttpError(reason: string): void {
    if (this.run.complete(this.startedAt, reason)) setTimeout(() => this.issue(), ERROR_BACKOFF_MS);
  }
}

/** undici dispatch handler for one call at a time; reused, so it allocates nothing per call. */
class UndiciCall implements Dispatcher.DispatchHandler {
  private status = 0;
  private contentType = '';
  private chunks: Buffer[] = [];
  private sink: ResponseSink | undefined;

  start(sink: ResponseSink): this {
    this.sink = sink;
    this.status = 0;
    this.contentType = '';
    this.chunks = [];
    return this;
  }

  // Defining onRequestStart marks this as a new-style (undici 7) handler.
  onRequestStart(): void {}

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.contentType = headerValue(headers['content-type']);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    const body =
      this.chunks.length === 1 ? this.chunks[0]!.toString() : Buffer.concat(this.chunks).toString();
    this.sink?.onHttpResponse(this.status, this.contentType, body);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.sink?.onHttpError(`transport ${(error as { code?: string }).code ?? error.name}`);
  }
}

function undiciConnection(client: Client, config: LoadWorkerConfig, headers: string[]): Connection {
  // One reused handler per lane (a lane has one call in flight at a time).
  const handlers = new Map<ResponseSink, UndiciCall>();
  return {
    post(body, sink) {
      let handler = handlers.get(sink);
      if (handler === undefined) handlers.set(sink, (handler = new UndiciCall()));
      client.dispatch(
        {
          path: config.path,
          method: 'POST',
          headers,
          body,
          headersTimeout: config.requestTimeoutMs,
          bodyTimeout: config.requestTimeoutMs,
        },
        handler.start(sink),
      );
    },
    close: () => client.destroy(),
  };
}

function rawConnection(config: LoadWorkerConfig, headers: string[]): Connection {
  const url = new URL(config.origin);
  const connection = new RawHttpConnection(
    url.hostname,
    Number(url.port || 80),
    config.path,
    headers,
  );
  return {
    post: (body, sink) => connection.post(body, sink),
    close: async () => connection.close(),
  };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('load-worker must run as a worker thread');
  const config = workerData as LoadWorkerConfig;
  const clientOptions = {
    pipelining: config.pipelining,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
  };
  // The handshake client doubles as the first connection of the undici engine.
  const clients = [new Client(config.origin, clientOptions)];
  const connections: Connection[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(connections.map((connection) => connection.close()));
    await Promise.all(clients.filter((client) => !client.destroyed).map((c) => c.destroy()));
  };

  let run: LoadRun;
  try {
    const session = await openSession(
      clients[0]!,
      config.path,
      config.requestTimeoutMs,
      `mcp-director-bench-${config.threadIndex}`,
    );
    // With the raw engine the handshake connection would sit idle: keep the count exact.
    if (config.engine === 'raw') await clients.pop()!.close();
    for (let i = 0; i < config.connections; i++) {
      if (config.engine === 'raw') {
        connections.push(rawConnection(config, session.headers));
      } else {
        const client = i === 0 ? clients[0]! : new Client(config.origin, clientOptions);
        if (i > 0) clients.push(client);
        connections.push(undiciConnection(client, config, session.headers));
      }
    }
    run = new LoadRun(toolCallBodyFactory(config.tool, config.args));
  } catch (error) {
    post({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    await closeAll();
    return;
  }
  post({ type: 'ready' });

  const start = await new Promise<StartMessage>((resolve) => port.once('message', resolve));
  run.measureFrom = performance.now() + start.warmupMs;
  run.stopAt = run.measureFrom + start.durationMs;
  run.busyLanes = connections.length * config.pipelining;
  for (const connection of connections) {
    for (let i = 0; i < config.pipelining; i++) new Lane(run, connection).issue();
  }

  // Calls still in flight at stopAt are waited for (they are not counted), but not forever.
  const abandon = new Promise<void>((resolve) =>
    setTimeout(resolve, start.warmupMs + start.durationMs + config.requestTimeoutMs + 1000),
  );
  await Promise.race([run.whenIdle(), abandon]);
  post({
    type: 'done',
    report: {
      ok: run.ok,
      errors: run.errors,
      errorKinds: Object.fromEntries(run.errorKinds),
      histogram: run.histogram.toData(),
      abandoned: run.busyLanes,
      utilization: run.utilization,
    },
  });
  await closeAll();
}

function post(message: LoadWorkerMessage): void {
  parentPort?.postMessage(message);
}

main().catch((error: unknown) => {
  post({
    type: 'failed',
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
});
