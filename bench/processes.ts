/**
 * Child processes for the benchmark: started in their own process group, awaited by a
 * readiness line or an HTTP probe, and stopped with their whole tree — including
 * grandchildren that a daemon started in process groups of their own (stdio backends are
 * spawned detached), which killing the daemon's group alone would orphan.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { descendants, freePort } from '../src/bench/local-process.js';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

/** The repository root, from dist/bench/. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How every benchmark starts the daemon, after `node` (then `--config` and the rest): as the
 * `mcp-director` command runs it, with its Node options (src/cli/node-flags.ts).
 */
export const SERVE_ARGV: readonly string[] = [
  ...NODE_FLAGS,
  join(REPO_ROOT, 'dist/src/cli/main.js'),
  'serve',
  '--no-stdio',
];

export interface StartOptions {
  command: string;
  args: string[];
  cwd?: string;
  /** Resolve once stdout or stderr matches this; the first capture group is returned. */
  readyLine?: RegExp;
  timeoutMs: number;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The readiness line's first capture group, or '' without `readyLine`. */
  ready: string;
  /** The last lines the process wrote (stdout and stderr), for failure reports. */
  tail(): string;
  exited(): boolean;
  /** SIGTERM to the group, SIGKILL after `graceMs`, then any descendant left over. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_CHARS = 4000;

export async function startProcess(options: StartOptions): Promise<Started> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    detached: true, // own process group, so stop() reaches everything it spawned in it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.command}`);
  let output = '';
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exit.then(() => (hasExited = true));

  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const onOutput = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-TAIL_CHARS);
      const match = options.readyLine?.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? '');
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    if (options.readyLine === undefined) {
      clearTimeout(timer);
      resolve('');
    }
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited (code ${child.exitCode}, signal ${child.signalCode}) before ready`));
    });
  }).catch(async (error: unknown) => {
    await stopTree(pid, exit, 2000);
    throw new Error(`${(error as Error).message}; output:\n${output}`);
  });

  return {
    child,
    pid,
    ready,
    tail: () => output,
    exited: () => hasExited,
    stop: (graceMs = 5000) => stopTree(pid, exit, graceMs),
  };
}

async function stopTree(pid: number, exit: Promise<void>, graceMs: number): Promise<void> {
  const tree = descendants(pid);
  signalGroup(pid, 'SIGTERM');
  const stopped = await Promise.race([
    exit.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs)),
  ]);
  if (!stopped) {
    signalGroup(pid, 'SIGKILL');
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
  // A daemon stops its own backends on SIGTERM; whatever it left is killed here, by pid.
  for (const orphan of [...tree, ...descendants(pid)]) {
    signalGroup(orphan, 'SIGKILL');
    signal(orphan, 'SIGKILL');
  }
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  signal(-pid, name);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Polls `GET url` until it answers 200; fails early if `started` exits. */
export async function waitForHttp200(
  url: string,
  timeoutMs: number,
  started: Started,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (started.exited()) throw new Error(`exited before ${url} answered 200`);
    try {
      const response = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await response.body.dump();
      if (response.statusCode === 200) return;
      last = `HTTP ${response.statusCode}`;
    } catch (error) {
      last = (error as { code?: string }).code ?? (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

/** A daemon the benchmark started: its base URL, its process and its temp folder. */
export interface DirectorDaemon {
  base: string;
  started: Started;
  dir: string;
  /** Removes the temp folder (config, data); stop the process first. */
  cleanup(): void;
}

/**
 * `mcp-director serve --no-stdio` from this checkout's build, with `config` in a temp folder
 * (and its data there too), on a free port; resolves once `/healthz` answers 200.
 */
export async function startDirectorDaemon(
  config: object,
  timeoutMs: number,
  options: { folderPrefix?: string; onStarted?: (started: Started) => void } = {},
): Promise<DirectorDaemon> {
  const folderPrefix = options.folderPrefix ?? 'mcpd-bench-';
  const dir = mkdtempSync(join(tmpdir(), folderPrefix));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const port = await freePort();
    const started = await startProcess({
      command: process.execPath,
      args: [
        ...SERVE_ARGV,
        '--config',
        configPath,
        '--port',
        String(port),
        '--data-dir',
        join(dir, 'data'),
      ],
      timeoutMs,
    });
    options.onStarted?.(started);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp200(`${base}/healthz`, timeoutMs, started);
    } catch (error) {
      await started.stop();
      throw new Error(`${(error as Error).message}; output:\n${started.tail()}`);
    }
    return { base, started, dir, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}
