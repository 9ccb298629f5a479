/**
 * The daemon under soak: `mcp-director serve --no-stdio` from its CLI with a temp config and
 * data dir, two echo backends and one crash-server over stdio (the repo's compiled test
 * fixtures), plus what the soak reads about it from outside: RSS and open fds from /proc,
 * live sessions from `/api/sessions`, backend pids and restart counts from `/api/servers`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { descendants } from '../src/bench/local-process.js';
import { REPO_ROOT, startDirectorDaemon } from './processes.js';
import type { Started } from './processes.js';

const START_TIMEOUT_MS = 30_000;
/** Daemon log lines kept for the report (the warnings and errors, most recent last). */
const LOG_SAMPLES = 40;

export interface SoakDaemon {
  base: string;
  started: Started;
  /** Daemon log lines by level (`debug`, `info`, `warn`, `error`). */
  logLevels: Map<string, number>;
  /** The last warn/error lines of the daemon log. */
  logSamples: string[];
  /** SIGTERM to the daemon alone, as an operator's `kill <pid>`; what it left behind. */
  shutdown(graceMs: number): Promise<ShutdownFigures>;
  /** Stops the whole tree (whatever is left) and removes the temp folder. */
  stop(): Promise<void>;
}

export interface ShutdownFigures {
  /** From SIGTERM to the daemon's exit; undefined when it did not exit within the grace. */
  exitMs: number | undefined;
  exit: string;
  /** Descendants (backends and theirs) still alive once the daemon had exited. */
  leftBehind: number;
}

/** The backends: each echo server answers `echo` and `slow`; crash-server answers `ping_me` and `pid`. */
export const BACKENDS = ['echo1', 'echo2', 'crash'] as const;
export type BackendId = (typeof BACKENDS)[number];

/** `callTimeoutMs`: each backend's per-call timeout, kept below the soak's own call deadline. */
export async function startSoakDaemon(callTimeoutMs: number): Promise<SoakDaemon> {
  const fixture = (name: string, args: string[] = []): object => ({
    command: process.execPath,
    args: [join(REPO_ROOT, 'dist/test/fixtures', `${name}.js`), ...args],
    timeoutMs: callTimeoutMs,
  });
  const config = {
    mcpServers: {
      echo1: fixture('echo-server', ['--label', 'echo1']),
      echo2: fixture('echo-server', ['--label', 'echo2']),
      crash: fixture('crash-server'),
    },
  };
  const logLevels = new Map<string, number>();
  const logSamples: string[] = [];
  const { base, started, cleanup } = await startDirectorDaemon(config, START_TIMEOUT_MS, {
    folderPrefix: 'mcpd-soak-',
    onStarted: (process) => watchLog(process, logLevels, logSamples),
  });
  return {
    base,
    started,
    logLevels,
    logSamples,
    shutdown: (graceMs) => shutdown(started, graceMs),
    stop: async () => {
      await started.stop();
      cleanup();
    },
  };
}

async function shutdown(started: Started, graceMs: number): Promise<ShutdownFigures> {
  const tree = descendants(started.pid);
  if (started.exited()) return { exitMs: undefined, exit: 'exited before SIGTERM', leftBehind: 0 };
  const exit = new Promise<string>((resolve) =>
    started.child.once('exit', (code, signal) =>
      resolve(signal === null ? `code ${code}` : `signal ${signal}`),
    ),
  );
  const sentAt = Date.now();
  process.kill(started.pid, 'SIGTERM');
  const outcome = await Promise.race([
    exit,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), graceMs)),
  ]);
  if (outcome === undefined)
    return { exitMs: undefined, exit: `still running ${graceMs} ms after SIGTERM`, leftBehind: 0 };
  const exitMs = Date.now() - sentAt;
  // A moment for the kernel to reap what the daemon killed on its way out.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { exitMs, exit: outcome, leftBehind: tree.filter(isAlive).length };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Counts the daemon's log lines by level and keeps the last warnings and errors. */
function watchLog(started: Started, levels: Map<string, number>, samples: string[]): void {
  let partial = '';
  let current = 'info';
  started.child.stderr?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      // `time level [scope] message` (src/shared/log.ts); other lines continue the last one
      // (a backend's stderr tail quoted in a warning).
      const level = /^\S+ (debug|info|warn|error)\s/.exec(line)?.[1];
      if (level !== undefined) {
        current = level;
        levels.set(level, (levels.get(level) ?? 0) + 1);
      }
      if (current === 'info' || current === 'debug') continue;
      samples.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
      if (samples.length > LOG_SAMPLES) samples.shift();
    }
  });
}

export interface ProcessFigures {
  /** The daemon process alone (main thread, shard threads), KiB. */
  daemonRssKiB: number;
  /** Every descendant (the backends), summed, KiB. */
  childrenRssKiB: number;
  children: number;
  fds: number;
}

/** RSS and open fds of the daemon, and its descendants' RSS (Linux /proc). */
export function processFigures(pid: number): ProcessFigures {
  const children = descendants(pid);
  let childrenRssKiB = 0;
  for (const child of children) childrenRssKiB += rssKiB(child);
  return {
    daemonRssKiB: rssKiB(pid),
    childrenRssKiB,
    children: children.length,
    fds: fdCount(pid),
  };
}

function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0; // exited meanwhile
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await request(url, { headersTimeout: 5000, bodyTimeout: 5000 });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${response.statusCode}`);
  return JSON.parse(text) as unknown;
}

/** Live sessions as `/api/sessions` lists them. */
export async function liveSessions(base: string): Promise<number> {
  const body = (await getJson(`${base}/api/sessions`)) as { sessions?: unknown };
  if (!Array.isArray(body.sessions)) throw new Error('/api/sessions: no sessions array');
  return body.sessions.length;
}

export interface BackendStatus {
  state: string;
  restarts: number;
  pid: number | undefined;
}

/** Each backend's state, restart count and pid, as `/api/servers` reports them. */
export async function backendStatuses(base: string): Promise<Map<string, BackendStatus>> {
  const body = (await getJson(`${base}/api/servers`)) as { servers?: unknown };
  const statuses = new Map<string, BackendStatus>();
  if (!Array.isArray(body.servers)) return statuses;
  for (const entry of body.servers as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { id, state, restarts, pid } = entry as Record<string, unknown>;
    if (typeof id !== 'string') continue;
    statuses.set(id, {
      state: typeof state === 'string' ? state : 'unknown',
      restarts: typeof restarts === 'number' ? restarts : 0,
      pid: typeof pid === 'number' ? pid : undefined,
    });
  }
  return statuses;
}
