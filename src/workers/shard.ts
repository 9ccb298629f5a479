/**
 * A shard worker's one long-lived task (docs/architecture.md#shard-workers): the default export
 * is what piscina runs on each pinned thread, but it needs nothing from piscina — a MessagePort
 * is enough, so tests call it directly.
 *
 * Messages sent, in order: `ready` first; then per backend `server-state` (starting, with
 * pid), `catalog` and `server-state` (ready), and from then on `reply` / `progress` /
 * `server-notification` / `catalog` / `server-state` as things happen; an `add-server`
 * starts one more backend (the same sequence for it), a `remove-server` stops one and ends
 * with its `server-state` (stopped); after a `stop`, a `server-state` (stopped) per backend
 * and finally `stopped`, after which the port is closed and the task resolves.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BackendHost } from './backend/backend-host.js';
import { CallRecorder } from './backend/call-recorder.js';
import type { CallTracer } from './backend/call-telemetry.js';
import { openAnalyticsStore, type AnalyticsStore } from '../shared/analytics/store.js';
import { CredentialStore } from '../shared/credentials/credential-store.js';
import { createLink } from '../shared/link.js';
import { JsonRpcCode, rpcError } from '../shared/errors.js';
import { logger, setLogLevel, type Logger } from '../shared/log.js';
import {
  failedReply,
  THREAD_PROTOCOL_VERSION,
  type ShardTaskInput,
  type SupervisorMessage,
  type WorkerMessage,
} from '../shared/messages.js';

/** How often a shard sends its calls' counts (`call-stats`). */
const CALL_STATS_EVERY_MS = 1000;
/** How often a shard sends the finished calls while the live feed is on. */
const LIVE_EVERY_MS = 250;

export default async function runShard(input: ShardTaskInput): Promise<void> {
  if (input.protocolVersion !== THREAD_PROTOCOL_VERSION) {
    throw new Error(
      `shard ${input.shard}: the supervisor speaks thread protocol ${input.protocolVersion}, ` +
        `this worker speaks ${THREAD_PROTOCOL_VERSION}; the two come from different builds`,
    );
  }
  setLogLevel(input.logLevel);
  const log = logger(`shard:${input.shard}`);
  const recorder = new CallRecorder(openStore(input, log), await openTracer(input, log));

  const host = new BackendHost({
    shard: input.shard,
    instance: input.instance,
    servers: input.servers,
    limits: input.limits,
    out: (message) => link.send(message),
    recorder,
    credentials: CredentialStore.open(input.dataDir),
    stop: () => stop(),
    emptyProjectDir: emptyProjectDir(input.dataDir),
  });

  // The calls' counts for /metrics, once a second when there were any (off the hot path).
  const sendCallStats = (): void => {
    const rows = recorder.stats.take();
    if (rows !== undefined) link.send({ type: 'call-stats', rows });
  };
  const statsTimer = setInterval(sendCallStats, CALL_STATS_EVERY_MS);
  statsTimer.unref();
  // Finished calls for the live feed, while it is on (the recorder keeps none otherwise).
  const sendLive = (): void => {
    const calls = recorder.takeLive();
    if (calls !== undefined) link.send({ type: 'calls', calls });
  };
  const liveTimer = setInterval(sendLive, LIVE_EVERY_MS);
  liveTimer.unref();

  let stopping: Promise<void> | null = null;
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const stop = (): void => {
    stopping ??= (async () => {
      try {
        await host.stopAll();
        clearInterval(statsTimer);
        clearInterval(liveTimer);
        sendCallStats();
        sendLive();
        await recorder.close();
      } catch (error) {
        log.error(`while stopping: ${(error as Error).stack ?? String(error)}`);
      } finally {
        link.send({ type: 'stopped' });
        link.close();
        finished();
      }
    })();
  };

  // The host takes each message itself, so a call goes from the thread hop straight to it
  // (docs/architecture.md#the-call-path).
  const link = createLink<WorkerMessage, SupervisorMessage>(input.port, host.receive, {
    // A reply the hop cannot carry still answers its call; anything else is logged.
    onUnsendable: (message, error) => {
      log.error(`could not send ${message.type} to the supervisor: ${String(error)}`);
      if (message.type === 'reply' && message.ok)
        link.send(
          failedReply(
            message.callId,
            rpcError(
              JsonRpcCode.InternalError,
              `the backend's answer could not be passed on: ${String(error)}`,
            ),
          ),
        );
    },
  });
  // A supervisor that goes away without `stop` still gets its backends stopped.
  input.port.once('close', () => {
    if (stopping !== null) return;
    log.warn('the supervisor closed the port without stop; stopping every backend');
    stop();
  });

  link.send({ type: 'ready', shard: input.shard, protocolVersion: THREAD_PROTOCOL_VERSION });
  host.startAll();
  await done;
}

/**
 * Tracing is loaded only when configured, so the OpenTelemetry SDK costs nothing otherwise;
 * like analytics, a tracer that cannot start is logged and the shard serves without it.
 */
async function openTracer(input: ShardTaskInput, log: Logger): Promise<CallTracer | null> {
  if (input.telemetry === undefined || input.telemetry === null) return null;
  try {
    const { createCallTracer } = await import('./backend/call-telemetry.js');
    return createCallTracer(input.telemetry, input.instance);
  } catch (error) {
    log.error(`traces are off for this shard: ${String(error)}`);
    return null;
  }
}

/** Analytics must not stop a shard from serving: a store that cannot open is logged. */
function openStore(input: ShardTaskInput, log: Logger): AnalyticsStore | null {
  if (input.analyticsPath === null) return null;
  try {
    return openAnalyticsStore(input.analyticsPath, { writerId: `shard-${input.shard}` });
  } catch (error) {
    log.error(
      `analytics are off for this shard: cannot open ${input.analyticsPath}: ${String(error)}`,
    );
    return null;
  }
}

/** `<dataDir>/projects/none`, created if missing (backend-host.ts, `emptyProjectDir`). */
function emptyProjectDir(dataDir: string): string {
  const dir = join(dataDir, 'projects', 'none');
  mkdirSync(dir, { recursive: true });
  return dir;
}
