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
  /** Only the calls made through this profile (what a profile's token may see). */
  profile?: string;
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
  /**
   * Scans the range and aggregates it: synchronous, ~0.5M records/s
   * (docs/architecture.md#analytics-writes-are-never-awaited). Throws once closed.
   */
  stats(query?: StatsQuery): StatsReport;
  /** Deletes records whose `ts` is before the cutoff (ms since the epoch); returns how many. */
  prune(olderThanMs: number): Promise<number>;
  counters(): AnalyticsCounters;
  close(): Promise<void>;
}

/**
 * [bucket start, writer tag, sequence]: array keys sort element-wise, so time ranges are
 * key ranges. One entry holds every record of one flush whose `ts` falls in that bucket.
 */
type BatchKey = [number, string, number];

/**
 * A record is a positional array, not an object: measured with lmdb-js 3.5.6 on 12-field
 * records, 79 bytes and ~750k decoded/s against 193 bytes and ~190k/s for plain objects.
 */
type StoredRecord = [
  ts: number,
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

/** The format version first, so later fields can be added without a migration. */
type StoredBatch = [version: number, ...records: StoredRecord[]];

const FORMAT_VERSION = 2;
const TS_SLOT = 0;
const PROFILE_SLOT = 1;
const SERVER_SLOT = 4;
const STATUSES: readonly CallStatus[] = ['ok', 'error', 'timeout', 'cancelled'];
const STATUS_CODE: Record<CallStatus, number> = { ok: 0, error: 1, timeout: 2, cancelled: 3 };
/**
 * Records wait this long and are written together. One LMDB put per call cost the shard
 * ~15-20% of its CPU per forwarded call (bench/README.md); one put per flush and bucket
 * makes analytics nearly free. A crash loses at most this much of the record.
 */
const FLUSH_MS = 50;
/** Records of one flush are grouped per second of `ts`, so a time range maps to key ranges. */
const BUCKET_MS = 1000;
/** Entries removed per prune transaction: keeps each write transaction short. */
const PRUNE_BATCH = 1_000;
const WRITER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

const log = logger('analytics');

/**
 * A one-element key sorts before every key with that bucket start (a prefix sorts first),
 * so as a range start it includes `ms` and as a range end it excludes it.
 */
function keyBound(ms: number): BatchKey {
  return [ms] as unknown as BatchKey;
}

function bucketOf(ts: number): number {
  return Math.floor(ts / BUCKET_MS) * BUCKET_MS;
}

function encode(r: CallRecord): StoredRecord {
  return [
    r.ts,
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

function decode(v: StoredRecord): CallRecord {
  return {
    ts: v[0],
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

/** The records of a stored entry, or none if it is not of this format. */
function recordsOf(value: unknown): StoredRecord[] {
  if (!Array.isArray(value) || value[0] !== FORMAT_VERSION) return [];
  return value.slice(1) as StoredRecord[];
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
  const db: RootDatabase<StoredBatch, BatchKey> = open({
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
  private pending: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly db: RootDatabase<StoredBatch, BatchKey>,
    private readonly writer: string,
  ) {
    log.debug(`opened analytics store as ${writer}`);
  }

  record(r: CallRecord): void {
    if (this.closing !== null) {
      this.fail(1, 'record after close');
      return;
    }
    this.pending.push(r);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  async flushed(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.flush();
    try {
      await this.db.flushed;
    } catch {
      // A failed commit is already logged and counted by flush(); callers only wait.
    }
  }

  stats(query: StatsQuery = {}): StatsReport {
    if (this.closing !== null) throw new Error('analytics store is closed');
    const aggregator = new StatsAggregator();
    const since = query.sinceMs ?? -Infinity;
    const until = query.untilMs ?? Infinity;
    // Other threads' commits become visible to this thread's reader only after a reset.
    this.db.resetReadTxn();
    const range = this.db.getRange({
      ...(query.sinceMs !== undefined && { start: keyBound(bucketOf(query.sinceMs)) }),
      ...(query.untilMs !== undefined && { end: keyBound(query.untilMs) }),
      // A long scan must not pin one read snapshot (LMDB could not reuse freed pages).
      snapshot: false,
    });
    const { server, profile } = query;
    for (const { value } of range) {
      for (const record of recordsOf(value)) {
        const ts = record[TS_SLOT];
        if (ts < since || ts >= until) continue;
        if (server !== undefined && record[SERVER_SLOT] !== server) continue;
        if (profile !== undefined && record[PROFILE_SLOT] !== profile) continue;
        aggregator.add(decode(record));
      }
    }
    return aggregator.report(query);
  }

  async prune(olderThanMs: number): Promise<number> {
    await this.flushed();
    let removed = 0;
    while (this.closing === null) {
      this.db.resetReadTxn();
      const keys = [...this.db.getKeys({ end: keyBound(olderThanMs), limit: PRUNE_BATCH })];
      if (keys.length === 0) break;
      // Reads and writes in one write transaction, so a concurrent prune elsewhere sees
      // this one's result: each record is counted by the prune that removed it.
      const batch = await this.db.transaction(() => {
        let n = 0;
        for (const key of keys) {
          const records = recordsOf(this.db.get(key));
          const kept = records.filter((record) => record[TS_SLOT] >= olderThanMs);
          n += records.length - kept.length;
          if (kept.length === 0) this.db.removeSync(key);
          else if (kept.length < records.length) this.db.putSync(key, [FORMAT_VERSION, ...kept]);
        }
        return n;
      });
      removed += batch;
      // The last keys may be partly kept (a bucket straddling the cutoff): then we are done.
      if (keys.length < PRUNE_BATCH || batch === 0) break;
    }
    return removed;
  }

  counters(): AnalyticsCounters {
    return { recorded: this.recorded, failed: this.failed };
  }

  close(): Promise<void> {
    if (this.closing === null) this.flush();
    this.closing ??= (async () => {
      try {
        await this.db.flushed;
      } catch {
        // Already counted; closing must still release the environment.
      }
      // A put that throws (e.g. an unencodable value) may already have scheduled a batch
      // start for the next turn; closing first makes it throw "environment is already
      // closed" uncaught (seen with lmdb-js 3.5.6). Let that turn run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.db.close();
    })();
    return this.closing;
  }

  /** Writes what is pending: one entry per bucket of `ts`, all puts in one commit. */
  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const buckets = new Map<number, StoredRecord[]>();
    for (const r of this.pending) {
      const bucket = bucketOf(r.ts);
      let records = buckets.get(bucket);
      if (records === undefined) buckets.set(bucket, (records = []));
      records.push(encode(r));
    }
    this.pending = [];
    for (const [bucket, records] of buckets) {
      if (this.put(bucket, records)) continue;
      // One unencodable record must not lose its neighbours: write them one by one.
      for (const record of records) this.put(bucket, [record]);
    }
  }

  /** One put; false if the value could not even be encoded (nothing was written). */
  private put(bucket: number, records: StoredRecord[]): boolean {
    let commit: Promise<boolean>;
    try {
      commit = this.db.put([bucket, this.writer, this.seq++], [FORMAT_VERSION, ...records]);
    } catch (err) {
      if (records.length === 1) this.fail(1, err);
      return false;
    }
    this.recorded += records.length;
    commit.then(undefined, (err: unknown) => this.fail(records.length, err));
    return true;
  }

  private fail(count: number, err: unknown): void {
    this.failed += count;
    if (this.failureLogged) return;
    this.failureLogged = true;
    const message = err instanceof Error ? err.message : String(err);
    log.error(`analytics write failed (${message}); further failures are counted, not logged`);
  }
}
