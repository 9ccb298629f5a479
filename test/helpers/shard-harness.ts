/**
 * Drives one shard worker from a test: a real worker thread running `runShard`, real fixture
 * processes as backends, and the same batching link the supervisor uses. Keeps every message
 * the shard sent so tests can wait for (or assert the absence of) any of them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { CONFIG_DEFAULTS } from '../../src/shared/config/defaults.js';
import type {
  HttpServerConfig,
  Limits,
  ServerConfig,
  StdioServerConfig,
} from '../../src/shared/config/types.js';
import type { JsonObject } from '../../src/shared/json.js';
import { createLink, type Link } from '../../src/shared/link.js';
import {
  THREAD_PROTOCOL_VERSION,
  type CallContext,
  type ForwardedMethod,
  type ReplyMessage,
  type ShardTaskInput,
  type SupervisorMessage,
  type WorkerMessage,
} from '../../src/shared/messages.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', 'fixtures');

export const TEST_CONTEXT: CallContext = {
  session: 'session-1',
  profile: 'default',
  client: 'shard-test',
  era: 'legacy',
  identity: '',
  project: '',
  projectName: '',
};

/** A stdio backend running one of the compiled fixtures with the current node. */
export function fixtureServer(
  id: string,
  fixture: 'echo-server' | 'paged-server' | 'crash-server',
  options: { args?: string[]; env?: Record<string, string>; timeoutMs?: number } = {},
): StdioServerConfig {
  return {
    transport: 'stdio',
    id,
    command: process.execPath,
    args: [join(FIXTURES, `${fixture}.js`), ...(options.args ?? [])],
    env: options.env ?? {},
    cwd: here,
    prefix: id,
    timeoutMs: options.timeoutMs ?? 10_000,
    share: 'global',
    start: 'eager',
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
  };
}

/**
 * The hand-written NDJSON server of test/fixtures/raw-server.ts (server-to-client requests, odd
 * answers).
 */
export function rawServer(id: string): StdioServerConfig {
  return {
    transport: 'stdio',
    id,
    command: process.execPath,
    args: [join(FIXTURES, 'raw-server.js')],
    env: {},
    cwd: here,
    prefix: id,
    timeoutMs: 10_000,
    share: 'global',
    start: 'eager',
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
  };
}

/**
 * A remote backend at `url` (a fixture serving HTTP, test/helpers/http-fixture.ts): 'auto'
 * probes the stateless era first and falls back to Streamable HTTP, 'sse' speaks HTTP+SSE.
 */
export function remoteServer(
  id: string,
  url: string,
  httpTransport: HttpServerConfig['httpTransport'] = 'auto',
): HttpServerConfig {
  return {
    transport: 'http',
    id,
    url,
    httpTransport,
    headers: {},
    auth: { mode: 'auto', scopes: [] },
    prefix: id,
    timeoutMs: 10_000,
    share: 'global',
    start: 'eager',
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

interface Waiter {
  match: (message: WorkerMessage) => boolean;
  resolve: (message: WorkerMessage) => void;
}

export interface CallOptions {
  timeoutMs?: number;
  target?: string;
  context?: CallContext;
  clientCapabilities?: JsonObject;
  logLevel?: string;
}

export class ShardHarness {
  readonly messages: WorkerMessage[] = [];
  readonly worker: Worker;
  readonly #link: Link<SupervisorMessage>;
  readonly #exited: Promise<number>;
  #waiters: Waiter[] = [];
  #nextCallId = 1;

  private constructor(worker: Worker, port: MessageChannel['port1']) {
    this.worker = worker;
    this.#link = createLink<SupervisorMessage, WorkerMessage>(port, (message) =>
      this.#receive(message),
    );
    this.#exited = new Promise((resolve) => worker.once('exit', resolve));
  }

  static start(
    servers: ServerConfig[],
    options: {
      shard?: number;
      analyticsPath?: string | null;
      dataDir?: string;
      limits?: Partial<Limits>;
    } = {},
  ): ShardHarness {
    const { port1, port2 } = new MessageChannel();
    const input: ShardTaskInput = {
      protocolVersion: THREAD_PROTOCOL_VERSION,
      shard: options.shard ?? 0,
      port: port2,
      servers,
      dataDir: options.dataDir ?? join(tmpdir(), 'mcpd-shard-harness-data'),
      analyticsPath: options.analyticsPath ?? null,
      logLevel:
        (process.env['MCP_DIRECTOR_LOG'] as ShardTaskInput['logLevel'] | undefined) ?? 'error',
      limits: { ...CONFIG_DEFAULTS.limits, ...options.limits },
    };
    const worker = new Worker(new URL('./shard-entry.js', import.meta.url), {
      workerData: input,
      transferList: [port2],
    });
    return new ShardHarness(worker, port1);
  }

  #receive(message: WorkerMessage): void {
    this.messages.push(message);
    // Plays the client too: a backend's request is answered naming who answered what.
    if (message.type === 'client-request') {
      this.send({
        type: 'client-response',
        server: message.server,
        requestId: message.requestId,
        ok: true,
        result: { answeredBy: 'harness', method: message.method },
      });
    }
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.match(message)) waiter.resolve(message);
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  send(message: SupervisorMessage): void {
    this.#link.send(message);
  }

  /**
   * The first message matching `match` among those received from index `from` on, or the
   * next one to arrive; rejects after `timeoutMs` with what did arrive, to explain the failure.
   */
  waitFor<T extends WorkerMessage>(
    match: (message: WorkerMessage) => message is T,
    { from = 0, timeoutMs = 15_000 }: { from?: number; timeoutMs?: number } = {},
  ): Promise<T> {
    const seen = this.messages.slice(from).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const tail = this.messages.slice(-8).map((m) => JSON.stringify(m).slice(0, 300));
        reject(
          new Error(`no matching message within ${timeoutMs} ms; last ones:\n${tail.join('\n')}`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as T);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Waits until `server` reports `state` (counting from message index `from`). */
  waitForState(server: string, state: string, from = 0, timeoutMs = 15_000) {
    return this.waitFor(
      (m): m is Extract<WorkerMessage, { type: 'server-state' }> =>
        m.type === 'server-state' && m.server === server && m.state === state,
      { from, timeoutMs },
    );
  }

  /** Sends a call and returns its callId (for calls whose reply the test does not await). */
  sendCall(
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    options: CallOptions = {},
  ): number {
    const callId = this.#nextCallId++;
    const name = params['name'];
    const uri = params['uri'];
    this.send({
      type: 'call',
      callId,
      server,
      method,
      params,
      timeoutMs: options.timeoutMs ?? 10_000,
      target:
        options.target ?? (typeof name === 'string' ? name : typeof uri === 'string' ? uri : ''),
      context: options.context ?? TEST_CONTEXT,
      clientCapabilities: options.clientCapabilities ?? {},
      logLevel: options.logLevel,
    });
    return callId;
  }

  /** Sends a call; `reply` resolves with its reply message. */
  call(
    server: string,
    method: ForwardedMethod,
    params: JsonObject,
    options: CallOptions = {},
  ): { callId: number; reply: Promise<ReplyMessage> } {
    const from = this.messages.length;
    const callId = this.sendCall(server, method, params, options);
    const reply = this.waitFor(
      (m): m is ReplyMessage => m.type === 'reply' && m.callId === callId,
      { from, timeoutMs: 30_000 },
    );
    return { callId, reply };
  }

  /** Calls a tool and returns the reply. */
  tool(
    server: string,
    name: string,
    args: JsonObject = {},
    options: CallOptions = {},
  ): Promise<ReplyMessage> {
    return this.call(server, 'tools/call', { name, arguments: args }, options).reply;
  }

  /** Sends `stop`, waits for `stopped` and for the thread to end; returns its exit code. */
  async stop(timeoutMs = 20_000): Promise<number> {
    const from = this.messages.length;
    this.send({ type: 'stop' });
    await this.waitFor(
      (m): m is Extract<WorkerMessage, { type: 'stopped' }> => m.type === 'stopped',
      {
        from,
        timeoutMs,
      },
    );
    return this.#exited;
  }

  /** Closes the supervisor's end of the port without `stop`; resolves with the thread's exit code. */
  disconnect(): Promise<number> {
    this.#link.close();
    return this.#exited;
  }

  /**
   * Ends the thread without a graceful stop (cleanup after a failed test) and kills every
   * process group the shard reported, as the supervisor does when a worker dies.
   */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    for (const message of this.messages) {
      if (message.type !== 'server-state' || message.pid === undefined) continue;
      try {
        process.kill(-message.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** The text of the first content block of a successful tools/call reply. */
export function resultText(reply: ReplyMessage): string {
  if (!reply.ok) throw new Error(`expected a result, got error ${JSON.stringify(reply.error)}`);
  const result = JSON.parse(reply.result) as { content?: { type: string; text?: string }[] };
  const text = result.content?.[0]?.text;
  if (typeof text !== 'string') throw new Error(`no text content in ${reply.result}`);
  return text;
}

/**
 * Whether a process (or process group, with a negative pid) still runs. A killed process whose
 * parent is gone stays a zombie until init reaps it (some container inits never do), so on
 * Linux a zombie counts as gone.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (pid < 0 || process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
