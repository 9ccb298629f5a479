/**
 * Removing one server while the daemon runs (config hot reload), after the pool has taken it
 * out of its routing: its worker is sent `remove-server` and has a grace period to report it
 * `stopped`; past it (or if its shard dies) its process groups are killed here. Calls pending
 * to it when it was removed are answered SERVER_REMOVED, so none stays unanswered (the worker
 * normally answered them already).
 *
 * The same id added back while its removal is under way is the removal's successor: it is
 * sent to the worker only once the old process has stopped, so one id never has two
 * processes.
 */
import type { ServerConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { ProcessRecords } from './process-records.js';
import { killOrphans } from './process-records.js';
import type { Pending, Shard, ShardEvents } from './pending.js';
import { failPendingCall } from './pending.js';

const log = logger('shards');

/** How long `removeServer` waits for the worker before killing the server's processes. */
export const REMOVE_GRACE_MS = 10_000;

/** A `remove-server` sent, waiting for the worker's `stopped` about that server. */
interface Removal {
  shard: number;
  /** Calls to the server pending when it was removed; none may stay unanswered. */
  callIds: number[];
  timer: NodeJS.Timeout;
  done: Promise<void>;
  resolve: () => void;
  /** The same id added again meanwhile: sent to the worker once the old one has stopped. */
  successor: ServerConfig | undefined;
}

export class ServerRemovals {
  /** Servers being removed, by id. */
  readonly #removals = new Map<string, Removal>();
  readonly #shards: readonly Shard[];
  readonly #pending: Map<number, Pending>;
  readonly #pids: ProcessRecords;
  readonly #events: ShardEvents;
  readonly #stopping: () => boolean;

  /** The pool's own shards, pending calls and process records (the same objects). */
  constructor(
    shards: readonly Shard[],
    pending: Map<number, Pending>,
    pids: ProcessRecords,
    events: ShardEvents,
    stopping: () => boolean,
  ) {
    this.#shards = shards;
    this.#pending = pending;
    this.#pids = pids;
    this.#events = events;
    this.#stopping = stopping;
  }

  /** Whether `id` is being removed: its worker's last words are still expected. */
  has(id: string): boolean {
    return this.#removals.has(id);
  }

  /** Resolves when the removal of `id` is over (at once if none is under way). */
  done(id: string): Promise<void> {
    return this.#removals.get(id)?.done ?? Promise.resolve();
  }

  /**
   * `config` was added while the removal of its id is under way: it goes to the worker once
   * the old one has stopped. False if no removal of that id is under way.
   */
  succeed(config: ServerConfig): boolean {
    const removal = this.#removals.get(config.id);
    if (removal === undefined) return false;
    removal.successor = config;
    return true;
  }

  /**
   * Stops `id`, which the pool has just taken out of its routing and of shard `index`'s
   * servers. Resolves once the worker reported it `stopped`, or after `graceMs`, when its
   * process groups are killed and its calls answered here. Never rejects.
   */
  remove(id: string, index: number, graceMs: number): Promise<void> {
    const pending = this.#removals.get(id);
    if (pending !== undefined) {
      // Added back while its removal was under way, and removed again before it started.
      pending.successor = undefined;
      pending.callIds.push(...this.#callsTo(id));
      return pending.done;
    }
    if (this.#stopping()) return Promise.resolve(); // stop() takes every process down
    const link = this.#shards[index]?.link;
    if (link === undefined) {
      // The shard is restarting: its processes died with it and its restart will not
      // start this server; only calls can be left.
      this.#failCalls(id, this.#callsTo(id));
      this.#events.serverState({ type: 'server-state', server: id, state: 'stopped', restarts: 0 });
      return Promise.resolve();
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const timer = setTimeout(() => {
      log.warn(`server '${id}' did not stop within ${graceMs} ms of its removal; killing it`);
      this.ended(id, true);
    }, graceMs);
    timer.unref();
    const callIds = this.#callsTo(id);
    this.#removals.set(id, { shard: index, callIds, timer, done, resolve, successor: undefined });
    link.send({ type: 'remove-server', server: id });
    return done;
  }

  /**
   * The removal of `id` is over: the worker said `stopped`, or did not in time or its shard
   * died (`kill`: its process groups are killed and a `stopped` is reported for it). A
   * server of that id added meanwhile is then sent to the worker.
   */
  ended(id: string, kill: boolean): void {
    const removal = this.#removals.get(id);
    if (removal === undefined) return;
    this.#removals.delete(id);
    clearTimeout(removal.timer);
    if (kill) {
      // Only the old process can run: a successor is sent to the worker after this.
      killOrphans(this.#pids, (server) => server === id);
      this.#events.serverState({ type: 'server-state', server: id, state: 'stopped', restarts: 0 });
    }
    this.#failCalls(id, removal.callIds);
    removal.resolve();
    const successor = removal.successor;
    if (successor !== undefined && !this.#stopping()) {
      // No link: the shard is restarting and starts it with the rest of `shard.servers`.
      this.#shards[removal.shard]?.link?.send({ type: 'add-server', server: successor });
    }
  }

  /** Shard `index` died: its removals are over, their processes killed. */
  shardDied(index: number): void {
    for (const [id, removal] of this.#removals) {
      if (removal.shard === index) this.ended(id, true);
    }
  }

  /** The pool stopped (every process is down): every removal is over. */
  endAll(): void {
    for (const id of [...this.#removals.keys()]) this.ended(id, false);
  }

  /** The pending calls to `server`. */
  #callsTo(server: string): number[] {
    const ids: number[] = [];
    for (const [callId, pending] of this.#pending) if (pending.server === server) ids.push(callId);
    return ids;
  }

  /** Answers those of `callIds` still pending (the worker normally answered them all). */
  #failCalls(id: string, callIds: number[]): void {
    const error = directorError(
      DirectorErrorCode.ServerRemoved,
      `Server '${id}' was removed from the config`,
      { server: id },
    );
    for (const callId of callIds) failPendingCall(this.#pending, callId, error);
  }
}
