/**
 * `npm run bench:soak`: MCP Director under a long, hostile-but-legal load. The daemon is
 * started from its CLI with two echo backends and a crash-server (stdio), then many
 * session-era clients call tools for a fixed time while some of them disconnect (abort a
 * POST, DELETE, vanish, DELETE with a call in flight) and a backend is SIGKILLed every few
 * seconds. Every call is accounted for; a call LOST (no HTTP answer its client did not
 * cause, or none before the deadline) fails the run. RSS, open fds and live sessions are
 * printed at start, peak and end; everything is stopped with its process tree at the end.
 *
 *   node dist/bench/soak.js [--duration 60] [--sessions 200] [--kill-every 5]
 *                           [--disconnect-rate 0.01] [--disconnects abort,delete,drop,delete-in-flight]
 *                           [--call-timeout 30] [--seed 1] [--json]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { numberFlag } from './flags.js';
import { DISCONNECT_KINDS, newTally, runClient } from './soak-client.js';
import type { DisconnectKind, SoakTally } from './soak-client.js';
import { liveSessions, processFigures, startSoakDaemon } from './soak-daemon.js';
import type { ProcessFigures, ShutdownFigures, SoakDaemon } from './soak-daemon.js';
import { BackendKiller } from './soak-killer.js';
import type { KillerReport } from './soak-killer.js';
import { printReport } from './soak-report.js';
import { prng } from '../test/helpers/prng.js';

export interface SoakSettings {
  durationS: number;
  sessions: number;
  killEveryS: number;
  disconnectRate: number;
  disconnects: DisconnectKind[];
  callTimeoutMs: number;
  seed: number;
}

/** One look at the daemon from outside. */
export interface Snapshot extends ProcessFigures {
  atS: number;
  /** -1 when /api/sessions did not answer. */
  sessions: number;
}

export interface SoakResult {
  settings: SoakSettings;
  machine: string;
  measuredS: number;
  start: Snapshot;
  peak: Snapshot;
  end: Snapshot;
  samples: Snapshot[];
  tally: SoakTally;
  backends: KillerReport;
  daemonAlive: boolean;
  shutdown: ShutdownFigures;
  logLevels: Map<string, number>;
  logSamples: string[];
  /** Why the run failed; empty when it passed. */
  failures: string[];
}

/** Seconds between two looks at RSS, fds and sessions during the run. */
const SAMPLE_EVERY_S = 5;
/** After the clients are gone, how long the daemon gets to close their sockets. */
const SETTLE_MS = 2000;
/** How long the daemon may take to exit on SIGTERM (its drain deadline is 10 s by default). */
const SHUTDOWN_GRACE_MS = 20_000;

async function snapshot(daemon: SoakDaemon, startedAt: number): Promise<Snapshot> {
  const sessions = await liveSessions(daemon.base).catch(() => -1);
  return {
    atS: (Date.now() - startedAt) / 1000,
    ...processFigures(daemon.started.pid),
    sessions,
  };
}

export async function runSoak(settings: SoakSettings, daemon: SoakDaemon): Promise<SoakResult> {
  const startedAt = Date.now();
  const start = await snapshot(daemon, startedAt);
  const samples: Snapshot[] = [start];
  const tally = newTally();
  const pool = new Pool(daemon.base, {
    // 'delete-in-flight' has two requests of one client open at once.
    connections: settings.sessions * 2 + 8,
    pipelining: 1,
  });
  const killer = new BackendKiller(daemon, pool, settings.killEveryS * 1000, prng(settings.seed));
  let stopped = false;
  const options = {
    pool,
    path: '/mcp',
    callTimeoutMs: settings.callTimeoutMs,
    disconnectRate: settings.disconnectRate,
    disconnects: settings.disconnects,
    stopped: () => stopped,
    tally,
  };
  await killer.start();
  const loadStartedAt = performance.now();
  const clients = Array.from({ length: settings.sessions }, (_, i) =>
    runClient(`soak-${i}`, { ...options, random: prng(settings.seed * 1000 + i + 1) }),
  );
  // The run: samples every few seconds until the duration is over.
  const endAt = Date.now() + settings.durationS * 1000;
  while (Date.now() < endAt && !daemon.started.exited()) {
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(SAMPLE_EVERY_S * 1000, endAt - Date.now())),
    );
    samples.push(await snapshot(daemon, startedAt));
  }
  stopped = true;
  const measuredS = (performance.now() - loadStartedAt) / 1000;
  killer.stopKilling();
  // Each client has at most a call and a DELETE left, each bounded by the call deadline.
  await Promise.all(clients);
  await killer.stop();
  await pool.destroy();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const daemonAlive = !daemon.started.exited();
  const end = await snapshot(daemon, startedAt);
  samples.push(end);
  const backends = await killer.report();
  const shutdown = await daemon.shutdown(SHUTDOWN_GRACE_MS);

  const lost = [...tally.lost.values()].reduce((a, b) => a + b, 0);
  const failures: string[] = [];
  if (!daemonAlive) failures.push('the daemon exited during the run');
  if (lost > 0) failures.push(`${lost} tools/call lost`);
  if (tally.lostOther > 0)
    failures.push(`${tally.lostOther} other requests (handshake, DELETE, cancel) lost`);
  if (tally.completed === 0) failures.push('no call completed');
  if (shutdown.exitMs === undefined) failures.push(`on SIGTERM the daemon ${shutdown.exit}`);
  if (shutdown.leftBehind > 0)
    failures.push(`${shutdown.leftBehind} backend processes outlived the daemon`);
  const peak = samples.reduce((a, b) => (b.daemonRssKiB > a.daemonRssKiB ? b : a));
  return {
    settings,
    machine: `${availableParallelism()} × ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`,
    measuredS,
    start,
    peak,
    end,
    samples,
    tally,
    backends,
    daemonAlive,
    shutdown,
    logLevels: daemon.logLevels,
    logSamples: daemon.logSamples,
    failures,
  };
}

function parseDisconnects(value: string | undefined): DisconnectKind[] {
  if (value === undefined) return [...DISCONNECT_KINDS];
  const kinds = value
    .split(',')
    .map((kind) => kind.trim())
    .filter((kind) => kind !== '');
  for (const kind of kinds) {
    if (!DISCONNECT_KINDS.includes(kind as DisconnectKind))
      throw new Error(`--disconnects takes ${DISCONNECT_KINDS.join(', ')}; got '${kind}'`);
  }
  return kinds as DisconnectKind[];
}

let daemon: SoakDaemon | undefined;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      sessions: { type: 'string' },
      'kill-every': { type: 'string' },
      'disconnect-rate': { type: 'string' },
      disconnects: { type: 'string' },
      'call-timeout': { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const settings: SoakSettings = {
    durationS: numberFlag(values.duration, 60),
    sessions: numberFlag(values.sessions, 200),
    killEveryS: numberFlag(values['kill-every'], 5),
    disconnectRate: numberFlag(values['disconnect-rate'], 0.01),
    disconnects: parseDisconnects(values.disconnects),
    callTimeoutMs: numberFlag(values['call-timeout'], 30) * 1000,
    seed: numberFlag(values.seed, 1),
  };
  if (!Number.isInteger(settings.sessions) || settings.sessions < 1 || settings.sessions > 5000)
    throw new Error('--sessions must be an integer from 1 to 5000');
  if (settings.durationS <= 0 || settings.durationS > 24 * 3600)
    throw new Error('--duration must be between 0 and 86400 seconds');

  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping the daemon and its backends\n`);
    void daemon?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  process.stderr.write(
    `soak: ${settings.sessions} sessions for ${settings.durationS} s (load average ${load})…\n`,
  );
  // Backends time out before the soak's own deadline, so a slow call is an error, not a loss.
  daemon = await startSoakDaemon(Math.max(1000, settings.callTimeoutMs - 5000));
  const hardLimitMs = (settings.durationS + (2 * settings.callTimeoutMs) / 1000 + 60) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const hardLimit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hard limit of ${hardLimitMs / 1000} s reached`)),
      hardLimitMs,
    );
  });
  try {
    const result = await Promise.race([runSoak(settings, daemon), hardLimit]);
    printReport(result, values.json === true, load);
    process.exitCode = result.failures.length > 0 ? 1 : 0;
  } finally {
    clearTimeout(timer);
    const running = daemon;
    daemon = undefined;
    await running.stop();
  }
}

main()
  .catch(async (error: unknown) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
    const tail = daemon?.started.tail().trim().split('\n').slice(-15).join('\n');
    if (tail) process.stderr.write(`daemon's last output:\n${tail}\n`);
    await daemon?.stop();
    process.exitCode = 1;
  })
  // Sockets of abandoned requests may linger; the run is over, so leave now.
  .finally(() => setTimeout(() => process.exit(), 100).unref());
