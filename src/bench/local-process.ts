/**
 * Targets the benchmark starts itself: a command run by the shell in its own process group
 * (so stopping it reaches everything it spawned), its readiness, its CPU time and memory
 * (pidusage, boundaries.json), and its descendants found in /proc — reading /proc costs no
 * process spawn in the middle of a measurement, unlike `ps`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import pidusage from 'pidusage';

export interface LocalProcess {
  child: ChildProcess;
  pid: number;
  /** The last lines it wrote on stderr (and stdout, when that is not the MCP stream). */
  tail(): string;
  exited(): boolean;
  /** SIGTERM to its group, SIGKILL after `graceMs`, then any descendant left over. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_CHARS = 4000;

/**
 * Starts `command` with `sh -c 'exec …'`: the shell parses quotes and variables the way the
 * user typed them, then becomes the command, so the pid measured is the target's own.
 * With `stdio`, its stdin and stdout are the MCP stream; otherwise both are only logged.
 */
export function startLocal(command: string, stdio: boolean): LocalProcess {
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start: ${command}`);
  let output = '';
  let hasExited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      hasExited = true;
      resolve();
    }),
  );
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-TAIL_CHARS);
  };
  child.stderr?.on('data', keep);
  if (!stdio) child.stdout?.on('data', keep);
  child.stdin?.on('error', () => {}); // a target that exits closes its stdin under our writes
  return {
    child,
    pid,
    tail: () => output,
    exited: () => hasExited,
    stop: (graceMs = 5000) => stopTree(pid, exit, () => hasExited, graceMs),
  };
}

async function stopTree(
  pid: number,
  exit: Promise<void>,
  exited: () => boolean,
  graceMs: number,
): Promise<void> {
  const tree = descendants(pid);
  if (!exited()) {
    signal(-pid, 'SIGTERM');
    if (!(await exitWithin(exit, graceMs))) {
      signal(-pid, 'SIGKILL');
      await exitWithin(exit, 1000);
    }
  }
  // A daemon stops its own children on SIGTERM; whatever is left (in groups of its own) goes.
  for (const orphan of [...tree, ...descendants(pid)]) {
    signal(-orphan, 'SIGKILL');
    signal(orphan, 'SIGKILL');
  }
}

/** Whether `exit` settles within `ms`; the timer goes either way, so it keeps nothing alive. */
async function exitWithin(exit: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([exit.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Every live descendant of `root` (Linux /proc; empty where there is none). */
export function descendants(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: the fields resume after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(parent) ?? [];
    list.push(Number(entry));
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Lets pidusage close the /proc files it keeps open between samples. */
export function forgetUsage(): void {
  pidusage.clear();
}

export interface Usage {
  /** CPU time (user + system) so far, in ms; resolution is the kernel's clock tick. */
  cpuMs: number;
  rssBytes: number;
}

export interface TreeUsage {
  own: Usage;
  /** All descendants alive now, summed (backends of a gateway, workers of a server). */
  children: Usage & { count: number };
}

/** CPU time and memory of `pid` and, separately, of its descendants alive now. */
export async function usageOf(pid: number): Promise<TreeUsage> {
  const kids = descendants(pid);
  // Default options: with `maxage: 0`, pidusage 4.1 reopens /proc files until EMFILE.
  const results = await Promise.allSettled([pid, ...kids].map((p) => pidusage(p)));
  const usage = results.map((result) =>
    result.status === 'fulfilled'
      ? { cpuMs: result.value.ctime, rssBytes: result.value.memory }
      : undefined,
  );
  const children = { cpuMs: 0, rssBytes: 0, count: 0 };
  for (const child of usage.slice(1)) {
    if (child === undefined) continue;
    children.cpuMs += child.cpuMs;
    children.rssBytes += child.rssBytes;
    children.count += 1;
  }
  return { own: usage[0] ?? { cpuMs: 0, rssBytes: 0 }, children };
}

/** A port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `host:port` accepts a connection; fails if `target` exits or time runs out. */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  target: LocalProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (target.exited()) throw new Error(`it exited before listening on port ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}
