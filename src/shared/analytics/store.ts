/**
 * The analytics store: one LMDB environment under the daemon's data folder, opened by every
 * shard worker (which append one record per forwarded call) and by the supervisor (which
 * answers `/api/stats` and prunes). The only module that imports lmdb (STYLE.md rule 4).
 *
 * lmdb-js shares one native environment between the threads of a process that open the
 * same path (lmdb-js test/threads.cjs), and serializes their write transactions, so no
 * thread needs to own the store.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { open, type RootDatabase } from 'lmdb';
import { logger } from '../log.js';
import { StatsAggregator, type StatsReport } from './stats.js';
import type { CallRecord, CallStatus } from './types.js';

export interface AnalyticsStoreOptions {
  /** Names this writer, e.g. 'shard-0' or 'supervisor'; makes keys unique across threads. */
  writerId: string;
}

export interface StatsQuery {
  /** Inclusive lower bound on `ts`, ms since the epoch. */
  sinceMs?: number;
  /** Exclusive upper bound on `ts`. */
  untilMs?: number;
  /** Only this server's calls. */
  server?: string;
}

export interface AnalyticsCounters {
  /** Records handed to LMDB by this handle. */
  recorded: number;
  /** Records lost: rejected by LMDB, unencodable, or recorded after close. */
  failed: number;
}

export interface AnalyticsStore {
  /** Queues one record; never throws and never needs awaiting (see `flushed`). */
  record(r: CallRecord): void;
  /** Resolves once everything recorded so far is committed and flushed to disk. */
  flushed(): Promise<void>;
  /** Scans the range and aggregates it: synchronous, ~0.5M records/s (perf.md §4). Throws once closed. */
  stats(query?: StatsQuery): StatsReport;
  /** Deletes records whose `ts` is before the cutoff (ms since the epoch); returns how many. */
  prune(olderThanMs: number): Promise<number>;
  counters(): AnalyticsCounters;
  close(): Promise<void>;
}

/** [ts, writer tag, sequence]: array keys sort element-wise, so time ranges are key ranges. */
type RecordKey = [number, string, number];

/**
 * Values are positional arrays, not objects: measured with lmdb-js 3.5.6 on 12-field records,
 * 79 bytes and ~750k decoded/s against 193 bytes and ~190k/s for plain objects (86 bytes and
 * ~420k/s with shared structures, which would also need cross-thread structure updates).
 * The first slot is the format version so later fields can be added without a migration.
 */
type StoredRecord = [
  version: number,
  profile: string,
  client: string,
  session: string,
  server: string,
  method: string,
  target: string,
  era: number,
  status: number,
  errorCode: number | null,
  latencyUs: number,
  bytesIn: number,
  bytesOut: number,
];

const FORMAT_VERSION = 1;
const SERVER_SLOT = 4;
const STATUSES: readonly CallStatus[] = ['ok', 'error', 'timeout', 'cancelled'];
const STATUS_CODE: Record<CallStatus, number> = { ok: 0, error: 1, timeout: 2, cancelled: 3 };
/** Keys removed per prune transaction: keeps each write transaction short. */
const PRUNE_BATCH = 10_000;
const WRITER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const log = logger('analytics');

/**
 * A one-element key sorts before every key with that ts (a prefix sorts first), so as a
 * range start it includes `ms` and as a range end it excludes it.
 */
function timeBound(ms: number): RecordKey {
  return [ms] as unknown as RecordKey;
}

function encode(r: CallRecord): StoredRecord {
  return [
    FORMAT_VERSION,
    r.profile,
    r.client,
    r.session,
    r.server,
    r.method,
    r.target,
    r.era === 'modern' ? 1 : 0,
    STATUS_CODE[r.status] ?? STATUS_CODE.error,
    r.errorCode,
    r.latencyUs,
    r.bytesIn,
    r.bytesOut,
  ];
}

function decode(ts: number, v: StoredRecord): CallRecord {
  return {
    ts,
    profile: v[1],
    client: v[2],
    session: v[3],
    server: v[4],
    method: v[5],
    target: v[6],
    era: v[7] === 1 ? 'modern' : 'legacy',
    status: STATUSES[v[8]] ?? 'error',
    errorCode: v[9],
    latencyUs: v[10],
    bytesIn: v[11],
    bytesOut: v[12],
  };
}

/**
 * Opens (creating if needed) the store in `path`, a folder holding `calls.mdb` and its lock
 * file. Every thread of the process may open the same path with its own writerId.
 */
export function openAnalyticsStore(path: string, options: AnalyticsStoreOptions): AnalyticsStore {
  if (!WRITER_ID.test(options.writerId)) {
    throw new TypeError('options.writerId must be 1-64 characters of A-Z a-z 0-9 _ . : -');
  }
  mkdirSync(path, { recursive: true });
  const db: RootDatabase<StoredRecord, RecordKey> = open({
    path: join(path, 'calls.mdb'),
    // Values are small arrays of short strings: LZ4 would cost CPU for little gain.
    compression: false,
  });
  return new LmdbAnalyticsStore(db, writerTag(options.writerId));
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
  private recorded = 0;
  private failed = 0;
  private failureLogged = false;
  /**
   * lmdb-js returns the same promise for every put of one commit batch: watching each
   * distinct promise once (not every put) keeps record() to a put and a comparison.
   */
  private batch: { commit: Promise<boolean>; size: number } | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly db: RootDatabase<StoredRecord, RecordKey>,
    private readonly writer: string,
  ) {
    log.debug(`opened analytics store as ${writer}`);
  }

  record(r: CallRecord): void {
    if (this.closing !== null) {
      this.fail(1, 'record after close');
      return;
    }
    try {
      const commit = this.db.put([r.ts, this.writer, this.seq++], encode(r));
      this.recorded += 1;
      if (commit === this.batch?.commit) {
        this.batch.size += 1;
        return;
      }
      const batch = { commit, size: 1 };
      this.batch = batch;
      commit.then(undefined, (err: unknown) => this.fail(batch.size, err));
    } catch (err) {
      // Synchronous failures: the value could not be encoded, or the map is unusable.
      this.fail(1, err);
    }
  }

  async flushed(): Promise<void> {
    if (this.closing !== null) return this.closing;
    try {
      await this.db.flushed;
    } catch {
      // A failed commit is already logged and counted by record(); callers only wait.
    }
  }

  stats(query: StatsQuery = {}): StatsReport {
    if (this.closing !== null) throw new Error('analytics store is closed');
    const aggregator = new StatsAggregator();
    // Other threads' commits become visible to this thread's reader only after a reset.
    this.db.resetReadTxn();
    const range = this.db.getRange({
      ...(query.sinceMs !== undefined && { start: timeBound(query.sinceMs) }),
      ...(query.untilMs !== undefined && { end: timeBound(query.untilMs) }),
      // A long scan must not pin one read snapshot (LMDB could not reuse freed pages).
      snapshot: false,
    });
    const server = query.server;
    for (const { key, value } of range) {
      if (!Array.isArray(value) || value[0] !== FORMAT_VERSION) continue;
      if (server !== undefined && value[SERVER_SLOT] !== server) continue;
      aggregator.add(decode(key[0], value));
    }
    return aggregator.report(query);
  }

  async prune(olderThanMs: number): Promise<number> {
    let removed = 0;
    while (this.closing === null) {
      this.db.resetReadTxn();
      const keys = [...this.db.getKeys({ end: timeBound(olderThanMs), limit: PRUNE_BATCH })];
      if (keys.length === 0) break;
      // removeSync inside the transaction reports whether each key still existed, so a
      // concurrent prune elsewhere cannot make the count lie or this loop spin.
      const batch = await this.db.transaction(() => {
        let n = 0;
        for (const key of keys) if (this.db.removeSync(key)) n += 1;
        return n;
      });
      removed += batch;
      if (batch === 0 || keys.length < PRUNE_BATCH) break;
    }
    return removed;
  }

  counters(): AnalyticsCounters {
    return { recorded: this.recorded, failed: this.failed };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.db.flushed;
      } catch {
        // Already counted; closing must still release the environment.
      }
      // A put that throws (e.g. an unencodable key) may already have scheduled a batch start
      // for the next turn; closing first makes it throw "environment is already closed"
      // uncaught (seen with lmdb-js 3.5.6). Let that turn run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.db.close();
    })();
    return this.closing;
  }

  private fail(count: number, err: unknown): void {
    this.failed += count;
    if (this.failureLogged) return;
    this.failureLogged = true;
    const message = err instanceof Error ? err.message : String(err);
    log.error(`analytics write failed (${message}); further failures are counted, not logged`);
  }
}
