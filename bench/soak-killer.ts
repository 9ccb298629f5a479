/**
 * The soak's backend killer and watcher. Every few seconds (jittered) it SIGKILLs one backend
 * in turn: the crash-server by the pid its `pid` tool reports, an echo server by the pid
 * `/api/servers` shows; in both cases only after checking the pid is a descendant of the
 * daemon, so nothing else on the machine can be hit. Meanwhile it polls `/api/servers` to
 * see the daemon restart each backend (new pid, `ready`) and how long that took.
 */
import type { Dispatcher } from 'undici';
import { openSession, post } from '../src/bench/http/mcp-http.js';
import type { McpSession } from '../src/bench/http/mcp-http.js';
import { clip } from '../src/bench/workload.js';
import { descendants } from '../src/bench/local-process.js';
import { BACKENDS, backendStatuses } from './soak-daemon.js';
import type { BackendId, BackendStatus, SoakDaemon } from './soak-daemon.js';

const POLL_MS = 500;
const REQUEST_TIMEOUT_MS = 5000;

export interface BackendFigures {
  kills: number;
  /** Why a planned kill did not happen (backend down, no pid, …), by reason. */
  skipped: Record<string, number>;
  /** `restarts` of /api/servers at the end minus at the start. */
  restarts: number;
  /** Distinct pids seen in `ready` (the first start included). */
  pids: number;
  /** From a kill to the first poll that saw a new pid ready, ms (poll granularity). */
  recoveryMs: number[];
  /** Kills after which no new pid was seen ready by the end. */
  unrecovered: number;
  stateAtEnd: string;
}

export type KillerReport = Record<BackendId, BackendFigures>;

interface Watch {
  firstRestarts: number | undefined;
  last: BackendStatus | undefined;
  pids: Set<number>;
  /** The pid killed and when, until a new pid is seen ready. */
  pendingKill: { pid: number; at: number } | undefined;
  figures: BackendFigures;
}

export class BackendKiller {
  readonly #daemon: SoakDaemon;
  readonly #pool: Dispatcher;
  readonly #everyMs: number;
  readonly #random: () => number;
  readonly #watches = new Map<BackendId, Watch>();
  #session: McpSession | undefined;
  #stopped = false;
  #killing = true;
  /** Ends the current wait of each loop at once when the soak stops. */
  readonly #wakers = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #nextTarget = 0;
  #nextId = 1;

  constructor(daemon: SoakDaemon, pool: Dispatcher, everyMs: number, random: () => number) {
    this.#daemon = daemon;
    this.#pool = pool;
    this.#everyMs = everyMs;
    this.#random = random;
    for (const id of BACKENDS) {
      this.#watches.set(id, {
        firstRestarts: undefined,
        last: undefined,
        pids: new Set(),
        pendingKill: undefined,
        figures: {
          kills: 0,
          skipped: {},
          restarts: 0,
          pids: 0,
          recoveryMs: [],
          unrecovered: 0,
          stateAtEnd: 'unknown',
        },
      });
    }
  }

  async start(): Promise<void> {
    await this.#poll();
    this.#loops.push(this.#every(POLL_MS, () => this.#poll()));
    if (this.#everyMs > 0)
      this.#loops.push(this.#every(this.#everyMs, () => this.#killNext(), true));
  }

  /** No more kills; the watching goes on until `stop()`, to see the last restarts. */
  stopKilling(): void {
    this.#killing = false;
  }

  /** Ends both loops and the killer's own session. */
  async stop(): Promise<void> {
    this.#killing = false;
    this.#stopped = true;
    for (const wake of this.#wakers) wake();
    await Promise.all(this.#loops);
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) {
      await this.#pool
        .request({ path: '/mcp', method: 'DELETE', headers: session.headers })
        .then((response) => response.body.dump())
        .catch(() => undefined);
    }
  }

  /** The figures per backend, after one last poll. */
  async report(): Promise<KillerReport> {
    await this.#poll();
    const report = {} as KillerReport;
    for (const id of BACKENDS) {
      const watch = this.#watches.get(id)!;
      watch.figures.pids = watch.pids.size;
      watch.figures.stateAtEnd = watch.last?.state ?? 'unknown';
      watch.figures.unrecovered = watch.pendingKill === undefined ? 0 : 1;
      report[id] = watch.figures;
    }
    return report;
  }

  /** Runs `task` every `ms` (± 30% with `jitter`) until stopped; a failed turn is skipped. */
  async #every(ms: number, task: () => Promise<void>, jitter = false): Promise<void> {
    while (!this.#stopped) {
      const wait = jitter ? ms * (0.7 + 0.6 * this.#random()) : ms;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, wait);
        this.#wakers.add(wake);
      });
      if (this.#stopped) return;
      await task().catch(() => undefined);
    }
  }

  async #poll(): Promise<void> {
    const statuses = await backendStatuses(this.#daemon.base);
    const now = Date.now();
    for (const [id, watch] of this.#watches) {
      const status = statuses.get(id);
      if (status === undefined) continue;
      watch.firstRestarts ??= status.restarts;
      watch.figures.restarts = status.restarts - watch.firstRestarts;
      watch.last = status;
      if (status.state !== 'ready' || status.pid === undefined) continue;
      watch.pids.add(status.pid);
      if (watch.pendingKill !== undefined && watch.pendingKill.pid !== status.pid) {
        watch.figures.recoveryMs.push(now - watch.pendingKill.at);
        watch.pendingKill = undefined;
      }
    }
  }

  async #killNext(): Promise<void> {
    if (!this.#killing) return;
    const id = BACKENDS[this.#nextTarget++ % BACKENDS.length]!;
    const watch = this.#watches.get(id)!;
    const skip = (reason: string): void => {
      watch.figures.skipped[reason] = (watch.figures.skipped[reason] ?? 0) + 1;
    };
    let pid: number | string;
    if (id === 'crash') pid = await this.#reportedPid();
    else pid = watch.last?.state === 'ready' ? (watch.last.pid ?? 'no pid') : 'not ready';
    if (typeof pid === 'string') return skip(pid);
    // Never a process that is not the daemon's: the pid came over the wire.
    if (!descendants(this.#daemon.started.pid).includes(pid)) return skip('pid not a descendant');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return skip('already gone');
    }
    watch.figures.kills += 1;
    watch.pendingKill = { pid, at: Date.now() };
  }

  /** The crash-server's own answer to `pid`, or why there is none. */
  async #reportedPid(): Promise<number | string> {
    this.#session ??= await openSession(this.#pool, '/mcp', REQUEST_TIMEOUT_MS, 'soak-killer');
    const id = this.#nextId++;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'crash__pid', arguments: {} },
    });
    const answer = await post(this.#pool, '/mcp', this.#session.headers, body, REQUEST_TIMEOUT_MS);
    if (answer.status === 404) this.#session = undefined;
    if (answer.status !== 200) return `pid tool: HTTP ${answer.status}`;
    let message: { result?: { content?: { text?: unknown }[] }; error?: { message?: unknown } };
    try {
      message = JSON.parse(answer.body) as typeof message;
    } catch {
      return `pid tool: unparsable ${clip(answer.body, 60)}`;
    }
    if (typeof message !== 'object' || message === null) return 'pid tool: not a JSON-RPC response';
    if (message.error !== undefined)
      return `pid tool: ${String(message.error.message).slice(0, 60)}`;
    const text = message.result?.content?.[0]?.text;
    const pid = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : undefined;
    return pid ?? 'pid tool: no pid in the result';
  }
}
