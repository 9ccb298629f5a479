/**
 * One HTTP load thread of `mcp-director bench`: its share of the sessions and connections,
 * and the calls on them (load-loop.ts). Closed loop (default): each connection has
 * `pipelining` lanes, and a lane sends its next request as soon as the last one is answered.
 * Open loop (`rate`): calls start on a fixed schedule whatever the answers, and a call's
 * latency counts from when it was due, so a server that falls behind shows its queueing delay.
 *
 * No promise or stream per call: a lane is a reused object called back when its response is
 * complete, which is what lets one thread issue many thousands of calls per second.
 * Two engines carry the calls (the handshake always uses undici): `raw` (raw-http.ts, the
 * default: less CPU per call, and the driver's CPU is taken from the server under test on a
 * small machine; docs/benchmark.md#engines) and `undici`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import { TickRecorder } from '../tally.js';
import type { Tick } from '../tally.js';
import { requestBodies } from '../workload.js';
import type { Engine, Workload } from '../options.js';
import { connectCycle } from './connect-cycle.js';
import { SseSession } from './legacy-sse.js';
import { LoadRun, closedLoop, openLoop } from './load-loop.js';
import type { Call, Connection } from './load-loop.js';
import { headerValue, openSession } from './mcp-http.js';
import { RawHttpConnection } from './raw-http.js';
import type { ResponseSink } from './raw-http.js';

export interface LoadThreadConfig {
  origin: string;
  path: string;
  /** MCP sessions this thread opens; its connections are spread over them. */
  sessions: number;
  connections: number;
  /** Requests in flight per connection in the closed loop (1 = no HTTP pipelining). */
  pipelining: number;
  engine: Engine;
  workload: Workload;
  /** Calls per second this thread starts (open loop), or 0 for the closed loop. */
  rate: number;
  /** Measured calls after which this thread stops (0: it runs for the duration). */
  calls: number;
  requestTimeoutMs: number;
  threadIndex: number;
  /** The target speaks HTTP+SSE (legacy-sse.ts): every connection is a session. */
  legacySse: boolean;
}

export interface StartMessage {
  type: 'start';
  warmupMs: number;
  /** The measured window's length; with `calls` set, the longest it may take. */
  durationMs: number;
}

export type LoadThreadMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'tick'; tick: Tick }
  /** `abandoned`: calls still unanswered when the thread stopped waiting for them. */
  | { type: 'done'; abandoned: number; utilization: number };

/** undici dispatch handler for one call at a time; reused, so it allocates nothing per call. */
class UndiciCall implements Dispatcher.DispatchHandler {
  #status = 0;
  #contentType = '';
  #chunks: Buffer[] = [];
  #sink: ResponseSink | undefined;

  start(sink: ResponseSink): this {
    this.#sink = sink;
    this.#status = 0;
    this.#contentType = '';
    this.#chunks = [];
    return this;
  }

  // Defining onRequestStart marks this as a new-style (undici 7) handler.
  onRequestStart(): void {}

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.#status = statusCode;
    this.#contentType = headerValue(headers['content-type']);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const body = Buffer.concat(this.#chunks).toString();
    this.#sink?.onHttpResponse(this.#status, this.#contentType, body);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const code = (error as { code?: string }).code ?? error.name;
    this.#sink?.onHttpError(code.includes('TIMEOUT') ? 'timeout' : `transport ${code}`);
  }
}

function undiciConnection(client: Client, config: LoadThreadConfig, headers: string[]): Connection {
  const handlers = new Map<ResponseSink, UndiciCall>();
  return {
    post(body, sink) {
      let handler = handlers.get(sink);
      if (handler === undefined) {
        handler = new UndiciCall();
        // Open-loop calls are one-off objects: only a lane's handler is worth keeping.
        if ((sink as Call).closedLoop) handlers.set(sink, handler);
      }
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
    sweep() {},
    close: () => client.destroy(),
  };
}

/** The `connect` workload: each post is a whole connect cycle on this connection. */
function connectConnection(client: Client, config: LoadThreadConfig, name: string): Connection {
  return {
    post(_body, sink) {
      void connectCycle(client, config.path, config.requestTimeoutMs, name).then((failure) =>
        (sink as Call).onVerdict(failure),
      );
    },
    sweep() {},
    close: () => client.destroy(),
  };
}

/** HTTP+SSE: a connection is a whole session (its stream, and a connection for its POSTs). */
function sseConnection(session: SseSession, config: LoadThreadConfig): Connection {
  const inFlight = new Set<Call>();
  return {
    post(body, sink) {
      const call = sink as Call;
      inFlight.add(call);
      const id = call.id;
      session.send(body, id, (message, failure) => {
        if (call.id !== id || !inFlight.delete(call)) return;
        if (message === undefined) call.onHttpError(failure ?? 'no answer');
        else call.onMessage(message);
      });
    },
    sweep(now) {
      for (const call of inFlight) {
        if (now - call.startedAt <= config.requestTimeoutMs) continue;
        inFlight.delete(call);
        session.forget(call.id);
        call.onHttpError('timeout');
      }
    },
    close: () => session.close(),
  };
}

function rawConnection(config: LoadThreadConfig, headers: string[]): Connection {
  const url = new URL(config.origin);
  const connection = new RawHttpConnection(
    url.hostname,
    Number(url.port || 80),
    config.path,
    headers,
  );
  return {
    post: (body, sink) => connection.post(body, sink),
    sweep(now) {
      // Responses come in order: when the oldest is overdue, the connection is stuck.
      const oldest = connection.oldest as Call | undefined;
      if (oldest !== undefined && now - oldest.startedAt > config.requestTimeoutMs) {
        connection.abort('timeout');
      }
    },
    close: async () => connection.close(),
  };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('load-thread must run as a worker thread');
  const config = workerData as LoadThreadConfig;
  const clients: Client[] = [];
  const connections: Connection[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(connections.map((connection) => connection.close()));
    await Promise.all(clients.filter((client) => !client.destroyed).map((c) => c.destroy()));
  };
  const clientOptions = { pipelining: config.pipelining, keepAliveTimeout: 60_000 };
  try {
    if (config.legacySse) {
      // Each connection is a session of its own: a stream and its POSTs.
      for (let i = 0; i < config.connections; i++) {
        const url = new URL(config.path, config.origin);
        const session = await SseSession.open(
          url,
          config.requestTimeoutMs,
          `mcp-director-bench-${config.threadIndex}-${i}`,
        );
        connections.push(sseConnection(session, config));
      }
    } else if (config.workload.kind === 'connect') {
      // Every cycle opens its own session; the connections are kept.
      for (let i = 0; i < config.connections; i++) {
        const client = new Client(config.origin, clientOptions);
        clients.push(client);
        connections.push(
          connectConnection(client, config, `mcp-director-bench-${config.threadIndex}-${i}`),
        );
      }
    }
    const sessions = [];
    const ownSessions = !config.legacySse && config.workload.kind !== 'connect';
    for (let s = 0; ownSessions && s < config.sessions; s++) {
      const client = new Client(config.origin, clientOptions);
      clients.push(client);
      sessions.push(
        await openSession(
          client,
          config.path,
          config.requestTimeoutMs,
          `mcp-director-bench-${config.threadIndex}-${s}`,
        ),
      );
    }
    // The handshake clients are closed with the raw engine, so the connection count is exact.
    if (config.engine === 'raw' && sessions.length > 0) {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    }
    for (let i = 0; sessions.length > 0 && i < config.connections; i++) {
      const headers = sessions[i % sessions.length]!.headers;
      if (config.engine === 'raw') {
        connections.push(rawConnection(config, headers));
      } else {
        const client = new Client(config.origin, clientOptions);
        clients.push(client);
        connections.push(undiciConnection(client, config, headers));
      }
    }
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    await closeAll();
    return;
  }
  send({ type: 'ready' });

  const start = await new Promise<StartMessage>((resolve) => port.once('message', resolve));
  const measureFrom = performance.now() + start.warmupMs;
  const recorder = new TickRecorder(measureFrom, (tick) => send({ type: 'tick', tick }));
  const run = new LoadRun(
    requestBodies(config.workload),
    recorder,
    measureFrom + start.durationMs,
    config.calls,
    config.workload,
  );
  const elu = {
    from: undefined as ReturnType<typeof performance.eventLoopUtilization> | undefined,
    value: 0,
  };
  const ticker = setInterval(() => {
    const now = performance.now();
    recorder.flush();
    for (const connection of connections) connection.sweep(now);
    if (now >= measureFrom && elu.from === undefined) elu.from = performance.eventLoopUtilization();
    run.check(now);
  }, 250);
  const stopSchedule =
    config.rate > 0
      ? openLoop(run, connections, config.rate)
      : closedLoop(run, connections, config.pipelining);
  const giveUp = new Promise<void>((resolve) =>
    setTimeout(resolve, start.warmupMs + start.durationMs + config.requestTimeoutMs + 1000).unref(),
  );
  await Promise.race([run.settled(), giveUp]);
  stopSchedule();
  clearInterval(ticker);
  if (elu.from !== undefined) elu.value = performance.eventLoopUtilization(elu.from).utilization;
  recorder.flush();
  send({ type: 'done', abandoned: run.inFlight, utilization: elu.value });
  await closeAll();
}

function send(message: LoadThreadMessage): void {
  parentPort?.postMessage(message);
}

main().catch((error: unknown) => {
  send({
    type: 'failed',
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
});
