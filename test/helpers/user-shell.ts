/**
 * Commands run as a person runs them in a terminal, for the tests of the first five minutes
 * (a fresh clone, a packed tarball): each in its own process group, with an environment cleaned
 * of what `npm test` itself adds, every wait bounded, and the whole group stopped at the end.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

import { rawPost, rawSession } from './raw-mcp.js';

export const READY_LINE = /MCP Director is ready: point your MCP client at (http:\/\/\S+)/;

/**
 * The environment of a user's shell: this process's, without the `npm_*` variables and the
 * `node_modules/.bin` folders an enclosing `npm test` adds (a nested npm would otherwise take
 * this repository as its project), without MCP Director's own settings, plus `extra`.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key.startsWith('MCP_DIRECTOR_')) continue;
    env[key] = value;
  }
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((dir) => !/node_modules[\\/]\.bin$|node-gyp-bin$/.test(dir))
    .join(path.delimiter);
  return { ...env, ...extra };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

export interface UserProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
  /** Resolves when the process exits. */
  exited: Promise<Finished>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<Finished>;
}

/** Starts `command` in a new process group (`sh -c` when `args` is omitted). */
export function startUser(
  command: string,
  args: string[] | undefined,
  options: { cwd: string; env: NodeJS.ProcessEnv },
): UserProcess {
  const started = performance.now();
  const child =
    args === undefined
      ? spawn('sh', ['-c', command], {
          ...options,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: string): void => {
    output += chunk;
    listeners.forEach((listener) => listener());
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  const exited = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      listeners.forEach((listener) => listener());
      resolve({ code, signal, output, ms: performance.now() - started });
    });
    child.once('error', (error) => {
      output += `\n[spawn failed: ${error.message}]`;
      resolve({ code: null, signal: null, output, ms: performance.now() - started });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(output);
          if (match !== null) finish(() => resolve(match));
          else if (done) {
            finish(() =>
              reject(new Error(`exited before ${what}; output:\n${output.slice(-6000)}`)),
            );
          }
        };
        const timer = setTimeout(() => {
          finish(() =>
            reject(new Error(`no ${what} within ${timeoutMs} ms; output:\n${output.slice(-6000)}`)),
          );
        }, timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 15_000) {
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const finished = await exited;
      clearTimeout(timer);
      // Whatever the group still holds (a child that ignored the signal) goes too.
      signalGroup('SIGKILL');
      return finished;
    },
  };
}

/** Runs a command to its end, bounded: the group is killed after `timeoutMs`. */
export async function runUser(
  command: string,
  args: string[] | undefined,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Finished> {
  const user = startUser(command, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void user.stop(1_000);
  }, options.timeoutMs);
  const finished = await user.exited;
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(
      `${command} took over ${options.timeoutMs} ms:\n${finished.output.slice(-6000)}`,
    );
  }
  return finished;
}

/**
 * Processes still running whose command line or working folder is inside `folder` (Linux /proc;
 * elsewhere none are found): what a test must not leave behind.
 */
export function processesUnder(folder: string): string[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmdline.includes(folder) || cwd === folder || cwd.startsWith(folder + path.sep)) {
        found.push(`${pid}: ${cmdline.trim()}`);
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/**
 * What a client sees at the URL the daemon printed: an `initialize` answered with a session,
 * then, once `/healthz` says the servers have started, the tools of `tools/list`.
 */
export async function firstContact(
  url: string,
  timeoutMs = 30_000,
): Promise<{ serverName: unknown; tools: string[] }> {
  const init = await rawPost(
    url,
    JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'first-five-minutes', version: '1' },
      },
    }),
  );
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.text}`);
  const serverInfo = (init.message?.result as { serverInfo?: { name?: unknown } } | undefined)
    ?.serverInfo;
  const healthz = new URL('/healthz', url);
  const deadline = Date.now() + timeoutMs;
  while ((await fetch(healthz)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${healthz} not 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const headers = await rawSession(url);
  const list = await rawPost(url, '{"jsonrpc":"2.0","id":2,"method":"tools/list"}', headers);
  const tools = (list.message?.result as { tools?: { name: string }[] } | undefined)?.tools ?? [];
  return { serverName: serverInfo?.name, tools: tools.map((tool) => tool.name) };
}
