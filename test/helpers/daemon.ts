/**
 * Starts MCP Director the way a user does: `mcp-director serve` as a child process with a
 * config file, and waits until `/healthz` says every backend finished its first start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A port free right now on 127.0.0.1 (one implementation, the benchmark's). */
export { freePort } from '../../src/bench/local-process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

/** `node <fixture>` as a config entry, for the fixtures compiled to dist/test/fixtures. */
export function fixture(
  name: string,
  args: string[] = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    command: process.execPath,
    args: [join(REPO_ROOT, 'dist/test/fixtures', `${name}.js`), ...args],
    ...extra,
  };
}

export interface Daemon {
  url: string;
  base: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Extra CLI arguments after `serve --no-stdio --config <file>`. */
  args?: string[];
  /** Wait for /healthz 200 (default true). */
  waitHealthy?: boolean;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The data folder (`--data-dir`); default a fresh `data` folder beside the config. */
  dataDir?: string;
  /**
   * Run `dist/src/cli/main.js` as the `mcp-director` command, the way an installed one runs
   * (its shebang picks `node` on the PATH and the options of src/cli/node-flags.ts), instead
   * of with this test's Node and no options.
   */
  asCommand?: boolean;
}

export async function startDaemon(
  config: Record<string, unknown>,
  options: StartOptions = {},
): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-test-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ listen: { port: 0 }, ...config }, null, 2));
  const asCommand = options.asCommand === true;
  if (asCommand) chmodSync(CLI, 0o755); // as npm makes an installed bin
  const child = spawn(
    asCommand ? CLI : process.execPath,
    [
      ...(asCommand ? [] : [CLI]),
      'serve',
      '--no-stdio',
      '--config',
      configPath,
      '--data-dir',
      options.dataDir ?? join(dir, 'data'),
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const timeoutMs = options.timeoutMs ?? 20_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`daemon did not start within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    const onData = (): void => {
      const match = /point your MCP client at (\S+)/.exec(stderr);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stderr.off('data', onData);
      resolve(match[1]);
    };
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with code ${code} before it was ready:\n${stderr}`));
    });
  });
  const base = url.replace(/\/mcp$/, '');
  const daemon: Daemon = {
    url,
    base,
    port: Number(new URL(url).port),
    dir,
    process: child,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  if (options.waitHealthy ?? true) await waitHealthy(base, timeoutMs);
  return daemon;
}

export async function waitHealthy(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${base}/healthz`).catch(() => undefined);
    if (response?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`/healthz not 200 within ${timeoutMs} ms (last: ${response?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until `check` returns a value other than undefined, or fails after the timeout. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Replaces the daemon's config file at once (write, then rename, as an editor saving it
 * would) and waits until the daemon says it reloaded it.
 */
export async function rewriteConfig(
  daemon: Daemon,
  config: Record<string, unknown>,
): Promise<void> {
  const reloads = (): number => daemon.stderr().split('config reloaded').length;
  const before = reloads();
  const configPath = join(daemon.dir, 'config.json');
  writeFileSync(`${configPath}.tmp`, JSON.stringify(config, null, 2));
  renameSync(`${configPath}.tmp`, configPath);
  await eventually(() => (reloads() > before ? true : undefined), 10_000, 'the reload');
}

/**
 * Whether a process still runs. A zombie (exited, not yet reaped: e.g. a child of a worker
 * thread that was terminated, which nobody waits for any more) counts as gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs (not Linux): the signal check is all there is
  }
}
