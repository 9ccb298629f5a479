/**
 * `npm run bench:memory`: the daemon's resident memory at rest, with 1 and with 10 stdio
 * echo backends (their own processes not counted), and what each idle session adds: the
 * daemon is started from its CLI, every backend is waited for (`/api/servers` all
 * `ready`), then 3 s of quiet before `VmRSS` is read; then `--sessions` session-era clients
 * initialize and stay idle, and the difference is divided by them.
 *
 *   node dist/bench/idle-memory.js [--sessions 2000]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, request } from 'undici';
import { openSession } from '../src/bench/http/mcp-http.js';
import { formatTable } from '../src/shared/text-table.js';
import { numberFlag } from './flags.js';
import { REPO_ROOT, startDirectorDaemon } from './processes.js';

const START_TIMEOUT_MS = 60_000;
const QUIET_MS = 3000;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function allReady(base: string, count: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const response = await request(`${base}/api/servers`);
    const body = (await response.body.json()) as { servers: { state?: string }[] };
    if (body.servers.filter((s) => s.state === 'ready').length === count) return;
    await pause(200);
  }
  throw new Error(`the ${count} backends were not all ready within ${START_TIMEOUT_MS} ms`);
}

async function measure(backends: number, sessions: number): Promise<string[]> {
  const servers: Record<string, unknown> = {};
  for (let i = 0; i < backends; i++) {
    servers[`echo${i}`] = {
      command: process.execPath,
      args: [join(REPO_ROOT, 'dist/test/fixtures/echo-server.js')],
    };
  }
  const daemon = await startDirectorDaemon({ mcpServers: servers }, START_TIMEOUT_MS);
  const client = new Client(daemon.base);
  try {
    await allReady(daemon.base, backends);
    await pause(QUIET_MS);
    const idle = rssMiB(daemon.started.pid);
    for (let i = 0; i < sessions; i++) await openSession(client, '/mcp', 10_000, `idle-${i}`);
    await pause(QUIET_MS);
    const withSessions = rssMiB(daemon.started.pid);
    return [
      String(backends),
      idle.toFixed(1),
      String(sessions),
      withSessions.toFixed(1),
      `${(((withSessions - idle) * 1024) / Math.max(1, sessions)).toFixed(1)} KiB`,
    ];
  } finally {
    await client.destroy();
    await daemon.started.stop();
    daemon.cleanup();
  }
}

const { values } = parseArgs({ options: { sessions: { type: 'string' } } });
// Enough sessions to stand out of what the heap's own growing and shrinking moves RSS by: with
// 500, that noise gave per-session figures from -90 to +15 KiB.
const sessions = numberFlag(values.sessions, 2000);
const rows = [await measure(1, sessions), await measure(10, sessions)];
process.stdout.write(
  `${formatTable(
    ['backends', 'idle RSS MiB', 'sessions', 'RSS with them MiB', 'per idle session'],
    rows,
    'rrrrr',
  )}\n`,
);
