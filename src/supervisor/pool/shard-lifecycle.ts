/**
 * The life of each shard's thread, seen from the supervisor: piscina owns the threads, each
 * shard runs one long-lived task that received a transferred MessagePort (its link), and a
 * shard whose thread dies is started again. What flows on the link is the pool's
 * (`shard-pool.ts`, `shard-messages.ts`); this module only opens it, closes it and hands its
 * messages on.
 *
 * Per-call piscina tasks would cost ~60% of the hop
 * (docs/architecture.md#one-long-lived-piscina-task-per-shard), hence one task per shard.
 * Threads are pinned (min = max, no idle timeout) and atomics are off, because a shard owns
 * child processes and must keep its event loop free. If a shard's thread dies, every call
 * pending on it is answered WORKER_EXITED, its backends' process groups are killed (they are
 * not tied to the thread), and the shard is started again with the servers it owns now.
 */
import type { ProjectInstances } from './project-instances.js';
import { MessageChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ShardTaskInput, SupervisorMessage, WorkerMessage } from '../../shared/messages.js';
import { THREAD_PROTOCOL_VERSION } from '../../shared/messages.js';
import type { DirectorConfig } from '../../shared/config/types.js';
import { createLink } from '../../shared/link.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { currentLogLevel, logger } from '../../shared/log.js';
import { killOrphans, type ProcessRecords } from './process-records.js';
import type { ServerRemovals } from './server-removal.js';
import type { ShardMessages } from './shard-messages.js';
import type { Pending, Shard, ShardEvents } from './pending.js';
import type { StartGate } from './start-gate.js';
import { failPendingCall } from './pending.js';

const log = logger('shards');
const SHARD_ENTRY = new URL('../../workers/shard.js', import.meta.url).href;

/** The pool's state the lifecycle reads and answers from: the same objects, not copies. */
export interface ShardLifecycleContext {
  config: DirectorConfig;
  shards: readonly Shard[];
  pending: Map<number, Pending>;
  pids: ProcessRecords;
  gate: StartGate;
  events: ShardEvents;
  removals: ServerRemovals;
  /** The projects' own instances: a dead shard's are gone with it. */
  projects: ProjectInstances;
  /** Where what a running shard says goes. */
  messages: ShardMessages;
  stopping: () => boolean;
  /** Whether a shard starting now must turn its live call feed on. */
  liveCalls: () => boolean;
}

export class ShardLifecycle {
  readonly #config: DirectorConfig;
  readonly #shards: readonly Shard[];
  readonly #pending: Map<number, Pending>;
  readonly #pids: ProcessRecords;
  readonly #gate: StartGate;
  readonly #events: ShardEvents;
  readonly #projects: ProjectInstances;
  readonly #removals: ServerRemovals;
  readonly #messages: ShardMessages;
  readonly #stopping: () => boolean;
  readonly #liveCalls: () => boolean;
  readonly #piscina: Piscina<ShardTaskInput, void>;
  #tasks: Array<Promise<void>> = [];

  /** The daemon's instance id, so shards can refuse the daemon itself as a backend. */
  #instance: string | undefined;

  constructor(context: ShardLifecycleContext) {
    this.#config = context.config;
    this.#shards = context.shards;
    this.#pending = context.pending;
    this.#pids = context.pids;
    this.#gate = context.gate;
    this.#events = context.events;
    this.#projects = context.projects;
    this.#removals = context.removals;
    this.#messages = context.messages;
    this.#stopping = context.stopping;
    this.#liveCalls = context.liveCalls;
    const count = context.shards.length;
    this.#piscina = new Piscina({
      filename: SHARD_ENTRY,
      minThreads: count,
      maxThreads: count,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      name: 'default',
    });
  }

  /** The pool's threads, for diagnostics (and for tests that kill one). */
  get threads(): readonly Worker[] {
    return this.#piscina.threads;
  }

  /** Starts every shard; resolves when each has said `ready`. */
  /** `instance`: the daemon's id, which every shard (and a restarted one) is told. */
  async start(instance?: string): Promise<void> {
    this.#instance = instance;
    await Promise.all(this.#shards.map((shard) => this.#startShard(shard)));
  }

  /** Tells every shard to stop its backends; resolves when all tasks ended, or after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    for (const shard of this.#shards) shard.link?.send({ type: 'stop' });
    const stopped = Promise.allSettled(this.#tasks);
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([stopped, timer]);
  }

  /** Ends the threads (after `stop`). */
  destroy(): Promise<void> {
    return this.#piscina.destroy();
  }

  #startShard(shard: Shard): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    let readyResolve!: () => void;
    const ready = new Promise<void>((resolve) => (readyResolve = resolve));
    shard.link = createLink<SupervisorMessage, WorkerMessage>(
      port1,
      (message) => {
        if (message.type === 'ready') readyResolve();
        else this.#messages.route(shard, message);
      },
      { onUnsendable: (message, error) => this.#messages.unsendable(message, error) },
    );
    // The port keeps it until the shard listens.
    if (this.#liveCalls()) shard.link.send({ type: 'live-calls', on: true });
    const input: ShardTaskInput = {
      protocolVersion: THREAD_PROTOCOL_VERSION,
      shard: shard.index,
      ...(this.#instance !== undefined && { instance: this.#instance }),
      port: port2,
      // A copy: piscina may clone the input later, after servers were added or removed.
      servers: [...shard.servers],
      analyticsPath: this.#config.analytics.enabled ? `${this.#config.dataDir}/analytics` : null,
      dataDir: this.#config.dataDir,
      telemetry: this.#config.telemetry.otlp,
      logLevel: currentLogLevel(),
      limits: this.#config.limits,
    };
    const task = this.#piscina.run(input, { transferList: [port2] as never }).then(
      () => this.#onShardEnded(shard, undefined),
      (error: unknown) => this.#onShardEnded(shard, error),
    );
    this.#tasks[shard.index] = task;
    // A shard that dies before `ready` must not hang start().
    return Promise.race([ready, task]);
  }

  #onShardEnded(shard: Shard, error: unknown): void {
    shard.link?.close();
    shard.link = undefined;
    if (this.#stopping()) return;
    // The task only returns after `stop`; anything else is a crash of the thread.
    const reason =
      error instanceof Error ? error.message : String(error ?? 'the shard task returned');
    log.error(`shard ${shard.index} died: ${reason}; failing its calls and restarting it`);
    for (const [callId, pending] of this.#pending) {
      // Held calls never reached the thread: they wait for its successor.
      if (pending.shard !== shard.index || pending.held) continue;
      const error = directorError(
        DirectorErrorCode.WorkerExited,
        `The worker thread owning server '${pending.server}' died while handling this call (${reason}); it is being restarted`,
        { server: pending.server },
      );
      failPendingCall(this.#pending, callId, error);
    }
    const serverIds = shard.servers.map((s) => s.id);
    killOrphans(this.#pids, (server) => serverIds.includes(server));
    this.#removals.shardDied(shard.index);
    for (const server of serverIds) {
      this.#projects.removed(server);
      const error = `worker thread died: ${reason}`;
      this.#gate.changed(server, 'restarting', error);
      this.#events.serverState({
        type: 'server-state',
        server,
        state: 'restarting',
        restarts: shard.restarts,
        error,
      });
    }
    shard.restarts++;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(shard.restarts, 7));
    setTimeout(() => {
      if (!this.#stopping()) void this.#startShard(shard);
    }, delay).unref();
  }
}
