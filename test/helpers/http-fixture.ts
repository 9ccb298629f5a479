/**
 * Starts a fixture server that serves HTTP on 127.0.0.1 and announces `listening <url>` on
 * stdout (`serve-http.ts`, `dual-era-server.ts --http`), as its own process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from './daemon.js';

export interface HttpFixture {
  url: string;
  process: ChildProcess;
  /** The last 8 KB of its stderr, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** `script` is the fixture's file under dist/test/fixtures, e.g. 'dual-era-server.js'. */
export async function startHttpFixture(script: string, args: string[]): Promise<HttpFixture> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/test/fixtures', script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /^listening (\S+)$/m.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`${script} exited (${String(code)}) before listening: ${out}${stderr}`)),
    );
  });
  return {
    url,
    process: child,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
