/**
 * The analytics store: one LMDB environment under the daemon's data folder, opened by every
 * shard worker (which append one record per forwarded call) and by the supervisor (which
 * answers `/api/stats` and prunes). The only module that imports lmdb
 * (docs/architecture.md#boundaries-and-adapters).
 *
 * lmdb-js shares one native environment between the threads of a process that open the
 * same path (https://github.com/kriszyp/lmdb-js/blob/HEAD/test/threads.cjs), and serializes
 * their write transactions, so no thread needs to own the store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { open, type RootDatabase } from 'lmdb';
import { logger } from '../log.js';
import {
  FORMAT_VERSION,
  keyBound,
  recordsOf,
  tsOf,
  type BatchKey,
  type StoredBatch,
  type StoredRecord,
} from './record-format.js';
import { recentCalls, type RecentPage, type RecentQuery } from './recent-calls.js';
import {
  decodeSession,
  encodeServerEvent,
  encodeSession,
  readServerEvents,
  readSessions,
  sessionKey,
  type HistoryQuery,
  type LifecycleKey,
  type ServerEventRecord,
  type SessionRecord,
} from './lifecycle.js';
import { LEVEL_MS, LEVELS, type RollupKey, type StoredRollup } from './rollup.js';
import { levelRange, sumRollups, type StatsQuery } from './rollup-query.js';
import type { StatsReport } from './stats.js';
import type { CallRecord } from './types.js';
import { WriteBuffer, type AnalyticsCounters } from './write-buffer.js';

export type { StatsQuery } from './rollup-query.js';
export type { RecentPage, RecentQuery } from './recent-calls.js';
export type { HistoryQuery, ServerEventRecord, SessionRecord } from './lifecycle.js';
export type { AnalyticsCounters } from './write-buffer.js';

export interface AnalyticsStoreOptions {
  /** Names this writer, e.g. 'shard-0' or 'supervisor'; makes keys unique across threads. */
  writerId: string;
}

export interface AnalyticsStore {
  /** Queues one record; never throws and never needs awaiting (see `flushed`). */
  record(r: CallRecord): void;
  /** Resolves once everything recorded so far is committed and flushed to disk. */
  flushed(): Promise<void>;
  /**
   * Sums the rollups of the window: whole hours from the hourly ones, the rest from the
   * minutes' (docs/architecture.md#analytics-rollups). Synchronous. Throws once closed.
   */
  stats(query?: StatsQuery): StatsReport;
  /** Recent calls, newest first, a page at a time. Throws BadCursor for a forged cursor. */
  recent(query?: RecentQuery): RecentPage;
  /** Writes a session's record (again when it ends: same start and id, same key). */
  recordSession(session: SessionRecord): void;
  /** Writes a backend's state change. */
  recordServerEvent(event: ServerEventRecord): void;
  /** Sessions, newest start first. */
  sessions(query?: HistoryQuery): SessionRecord[];
  /** Backend state changes, newest first. */
  serverEvents(query?: HistoryQuery): ServerEventRecord[];
  /**
   * Deletes records whose `ts` is before the cutoff (ms since the epoch), and the rollup
   * periods that ended by then; returns how many records went.
   */
  prune(olderThanMs: number): Promise<number>;
  /**
   * Deletes the oldest call records until the records' pages take at most `maxBytes`;
   * returns how many went. Rollups and the lifecycle log are small and kept by age only.
   */
  pruneToSize(maxBytes: number): Promise<number>;
  /** Bytes in use by the call records (LMDB pages; the file itself never shrinks). */
  recordBytes(): number;
  counters(): AnalyticsCounters;
  close(): Promise<void>;
}

/** Entries (flushes of one second) removed per round of pruning to a size. */
const SIZE_STEP = 2_000;
/** Entries removed per prune transaction: keeps each write transaction short. */
const PRUNE_BATCH = 1_000;
const WRITER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const log = logger('analytics');

/**
 * Opens (creating if needed) the store in `path`, a folder holding `calls.mdb` and its lock
 * file. Every thread of the process may open the same path with its own writerId.
 */
export function openAnalyticsStore(path: string, options: AnalyticsStoreOptions): AnalyticsStore {
  if (!WRITER_ID.test(options.writerId)) {
    throw new TypeError('options.writerId must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  }
  mkdirSync(path, { recursive: true });
  const db: RootDatabase<StoredBatch, BatchKey> = open({
    path: join(path, 'calls.mdb'),
    // Values are small arrays of short strings: LZ4 would cost CPU for little gain.
    compression: false,
  });
  // A second environment, so each keeps one key shape and its own size.
  const rollups: RootDatabase<StoredRollup, RollupKey> = open({
    path: join(path, 'rollups.mdb'),
    compression: false,
  });
  const lifecycle: RootDatabase<unknown[], LifecycleKey> = open({
    path: join(path, 'lifecycle.mdb'),
    compression: false,
  });
  return new LmdbAnalyticsStore(db, rollups, lifecycle, writerTag(options.writerId));
}

/**
 * A restarted shard reuses its writerId and the clock may step back, so a per-open nonce
 * keeps keys unique (a collision would silently overwrite a record) without coordination.
 */
function writerTag(writerId: string): string {
  return `${writerId}:${randomBytes(3).toString('hex')}`;
}

class LmdbAnalyticsStore implements AnalyticsStore {
  private seq = 0;
  private closing: Promise<void> | null = null;
  /** Records and rollups on their way to LMDB, and the failures (`write-buffer.ts`). */
  private readonly writes: WriteBuffer;

  constructor(
    private readonly db: RootDatabase<StoredBatch, BatchKey>,
    private readonly rollups: RootDatabase<StoredRollup, RollupKey>,
    private readonly lifecycle: RootDatabase<unknown[], LifecycleKey>,
    private readonly writer: string,
  ) {
    this.writes = new WriteBuffer({
      writer,
      putRecords: (bucket, records) =>
        this.db.put([bucket, this.writer, this.seq++], [FORMAT_VERSION, ...records]),
      putRollup: (key, value) => this.rollups.put(key, value),
      closing: () => this.closing !== null,
    });
    log.debug(`opened analytics store as ${writer}`);
  }

  record(r: CallRecord): void {
    this.writes.record(r);
  }

  async flushed(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.writes.flush();
    this.writes.flushRollups(true);
    try {
      await Promise.all([this.db.flushed, this.rollups.flushed, this.lifecycle.flushed]);
    } catch {
      // A failed commit is already logged and counted by flush(); callers only wait.
    }
  }

  stats(query: StatsQuery = {}): StatsReport {
    if (this.closing !== null) throw new Error('analytics store is closed');
    // Other threads' commits become visible to this thread's reader only after a reset.
    this.rollups.resetReadTxn();
    // A long scan must not pin one read snapshot (LMDB could not reuse freed pages).
    return sumRollups((range) => this.rollups.getRange({ ...range, snapshot: false }), query);
  }

  recordSession(session: SessionRecord): void {
    this.putLifecycle(sessionKey(session), encodeSession(session));
  }

  recordServerEvent(event: ServerEventRecord): void {
    this.putLifecycle(['server', event.ts, this.writer, this.seq++], encodeServerEvent(event));
  }

  sessions(query: HistoryQuery = {}): SessionRecord[] {
    if (this.closing !== null) throw new Error('analytics store is closed');
    this.lifecycle.resetReadTxn();
    return readSessions((range) => this.lifecycle.getRange({ ...range, snapshot: false }), query);
  }

  serverEvents(query: HistoryQuery = {}): ServerEventRecord[] {
    if (this.closing !== null) throw new Error('analytics store is closed');
    this.lifecycle.resetReadTxn();
    return readServerEvents(
      (range) => this.lifecycle.getRange({ ...range, snapshot: false }),
      query,
    );
  }

  /** One lifecycle put, never awaited; a failure is counted and logged once. */
  private putLifecycle(key: LifecycleKey, value: unknown[]): void {
    if (this.closing !== null) return this.writes.fail(0, 'lifecycle record after close');
    try {
      this.lifecycle.put(key, value).then(undefined, (err: unknown) => this.writes.fail(0, err));
    } catch (err) {
      this.writes.fail(0, err);
    }
  }

  recent(query: RecentQuery = {}): RecentPage {
    if (this.closing !== null) throw new Error('analytics store is closed');
    this.db.resetReadTxn();
    return recentCalls((range) => this.db.getRange({ ...range, snapshot: false }), query);
  }

  async prune(olderThanMs: number): Promise<number> {
    await this.flushed();
    await this.pruneRollups(olderThanMs);
    await this.pruneLifecycle(olderThanMs);
    return this.pruneRecords(olderThanMs);
  }

  recordBytes(): number {
    const stats = this.db.getStats() as {
      pageSize: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
    };
    const pages = stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
    return pages * stats.pageSize;
  }

  async pruneToSize(maxBytes: number): Promise<number> {
    await this.flushed();
    let removed = 0;
    while (this.closing === null && this.recordBytes() > maxBytes) {
      // The bucket SIZE_STEP entries in: the oldest entries up to it go in this round.
      this.db.resetReadTxn();
      const keys = [...this.db.getKeys({ limit: SIZE_STEP })];
      const last = keys.at(-1);
      if (last === undefined) break;
      const n = await this.pruneRecords(keys.length < SIZE_STEP ? Infinity : last[0]);
      removed += n;
      if (n === 0) break;
    }
    return removed;
  }

  /** Deletes call records before the cutoff, in short transactions; returns how many. */
  private async pruneRecords(olderThanMs: number): Promise<number> {
    let removed = 0;
    while (this.closing === null) {
      this.db.resetReadTxn();
      const end = Number.isFinite(olderThanMs) ? { end: keyBound(olderThanMs) } : {};
      const keys = [...this.db.getKeys({ ...end, limit: PRUNE_BATCH })];
      if (keys.length === 0) break;
      // Reads and writes in one write transaction, so a concurrent prune elsewhere sees
      // this one's result: each record is counted by the prune that removed it.
      const batch = await this.db.transaction(() => {
        let n = 0;
        for (const key of keys) {
          const records = recordsOf(this.db.get(key));
          const kept = records.filter((record) => !(tsOf(record) < olderThanMs));
          n += records.length - kept.length;
          if (kept.length === 0) this.db.removeSync(key);
          else if (kept.length < records.length)
            this.db.putSync(key, [FORMAT_VERSION, ...(kept as StoredRecord[])]);
        }
        return n;
      });
      removed += batch;
      // The last keys may be partly kept (a bucket straddling the cutoff): then we are done.
      if (keys.length < PRUNE_BATCH || batch === 0) break;
    }
    return removed;
  }

  /** Deletes server events before the cutoff and sessions that ended before it. */
  private async pruneLifecycle(olderThanMs: number): Promise<void> {
    for (const kind of ['server', 'session'] as const) {
      const range = {
        start: [kind, 0] as unknown as LifecycleKey,
        end: [kind, olderThanMs] as unknown as LifecycleKey,
      };
      while (this.closing === null) {
        this.lifecycle.resetReadTxn();
        const entries = [...this.lifecycle.getRange({ ...range, limit: PRUNE_BATCH })];
        const doomed = entries.filter(({ value }) => {
          const session = kind === 'session' ? decodeSession(value) : undefined;
          // An open session stays, however old its start (its end is still to come).
          return session === undefined || (session.end !== null && session.end < olderThanMs);
        });
        if (doomed.length > 0) {
          await this.lifecycle.transaction(() => {
            for (const { key } of doomed) this.lifecycle.removeSync(key);
          });
        }
        if (entries.length < PRUNE_BATCH || doomed.length === 0) break;
      }
    }
  }

  /** Deletes the rollup periods that ended by the cutoff, level by level, in short batches. */
  private async pruneRollups(olderThanMs: number): Promise<void> {
    for (const level of LEVELS) {
      // Periods starting at or before cutoff − length have ended by the cutoff.
      const range = levelRange(level, 0, olderThanMs - LEVEL_MS[level] + 1);
      while (this.closing === null) {
        this.rollups.resetReadTxn();
        const keys = [...this.rollups.getKeys({ ...range, limit: PRUNE_BATCH })];
        if (keys.length === 0) break;
        await this.rollups.transaction(() => {
          for (const key of keys) this.rollups.removeSync(key);
        });
        if (keys.length < PRUNE_BATCH) break;
      }
    }
  }

  counters(): AnalyticsCounters {
    return this.writes.counters();
  }

  close(): Promise<void> {
    if (this.closing === null) {
      this.writes.flush();
      this.writes.flushRollups(true);
    }
    this.closing ??= (async () => {
      try {
        await Promise.all([this.db.flushed, this.rollups.flushed, this.lifecycle.flushed]);
      } catch {
        // Already counted; closing must still release the environment.
      }
      // A put that throws (e.g. an unencodable value) may already have scheduled a batch
      // start for the next turn; closing first makes it throw "environment is already
      // closed" uncaught (seen with lmdb-js 3.5.6). Let that turn run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await Promise.all([this.db.close(), this.rollups.close(), this.lifecycle.close()]);
    })();
    return this.closing;
  }
}
