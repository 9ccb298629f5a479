/**
 * How the analytics store writes without the call path waiting
 * (docs/architecture.md#analytics-writes-are-never-awaited): records wait `FLUSH_MS` and go
 * as one entry per bucket of `ts`, the rollup periods in progress are written every
 * `ROLLUP_FLUSH_MS`, and a failed write is counted and logged once, never thrown. The puts
 * themselves are the store's (`store.ts`, the only module that imports lmdb).
 */
import { logger } from '../log.js';
import { bucketOf, encode, type StoredRecord } from './record-format.js';
import { RollupWriter, type RollupKey, type StoredRollup } from './rollup.js';
import type { CallRecord } from './types.js';

export interface AnalyticsCounters {
  /** Records handed to LMDB by this handle. */
  recorded: number;
  /** Records lost: rejected by LMDB, unencodable, or recorded after close. */
  failed: number;
}

export interface WriteBufferOptions {
  /** The writer's tag (`store.ts`): the rollups' keys carry it. */
  writer: string;
  /** Puts one entry of records of one bucket, never awaited; throws if it cannot encode them. */
  putRecords: (bucket: number, records: StoredRecord[]) => Promise<boolean>;
  /** Puts one rollup period, never awaited. */
  putRollup: (key: RollupKey, value: StoredRollup) => Promise<boolean>;
  /** Whether the store is closing: nothing more is queued. */
  closing: () => boolean;
}

/**
 * Records wait this long and are written together. One LMDB put per call cost the shard
 * ~15-20% of its CPU per forwarded call (bench/README.md); one put per flush and bucket
 * makes analytics nearly free. A crash loses at most this much of the record.
 */
const FLUSH_MS = 50;
/**
 * Rollups in progress are written this often: a query sees calls at most this late. Each
 * write rewrites the writer's current minute (and once a minute its current hour).
 */
const ROLLUP_FLUSH_MS = 1000;

const log = logger('analytics');

/** The figures the rollups add up must be numbers: one bad record must not spoil a period. */
function isRecordable(r: CallRecord): boolean {
  return (
    Number.isFinite(r.ts) &&
    Number.isFinite(r.latencyUs) &&
    Number.isFinite(r.bytesIn) &&
    Number.isFinite(r.bytesOut)
  );
}

export class WriteBuffer {
  private recorded = 0;
  private failed = 0;
  private failureLogged = false;
  private pending: CallRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private rollupTimer: NodeJS.Timeout | null = null;
  private readonly rollup: RollupWriter;

  constructor(private readonly options: WriteBufferOptions) {
    this.rollup = new RollupWriter(options.writer);
  }

  /** Queues one record; never throws. */
  record(r: CallRecord): void {
    if (this.options.closing()) {
      this.fail(1, 'record after close');
      return;
    }
    if (!isRecordable(r)) {
      this.fail(1, 'a record with a figure that is not a finite number');
      return;
    }
    this.pending.push(r);
    this.rollup.add(r);
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
    if (this.rollupTimer === null) {
      this.rollupTimer = setTimeout(() => this.flushRollups(false), ROLLUP_FLUSH_MS);
      this.rollupTimer.unref();
    }
  }

  counters(): AnalyticsCounters {
    return { recorded: this.recorded, failed: this.failed };
  }

  /** Writes the rollup periods changed since the last write (`all`: hours in progress too). */
  flushRollups(all: boolean): void {
    if (this.rollupTimer !== null) clearTimeout(this.rollupTimer);
    this.rollupTimer = null;
    for (const { key, value } of this.rollup.take(Date.now(), all)) {
      let commit: Promise<boolean>;
      try {
        commit = this.options.putRollup(key, value);
      } catch (err) {
        this.fail(0, err);
        continue;
      }
      commit.then(undefined, (err: unknown) => this.fail(0, err));
    }
    // A period in progress that got no write (an hour between minutes) is written later.
    if (this.rollup.pending() && !this.options.closing()) {
      this.rollupTimer = setTimeout(() => this.flushRollups(false), ROLLUP_FLUSH_MS);
      this.rollupTimer.unref();
    }
  }

  /** Writes what is pending: one entry per bucket of `ts`, all puts in one commit. */
  flush(): void {
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
      commit = this.options.putRecords(bucket, records);
    } catch (err) {
      if (records.length === 1) this.fail(1, err);
      return false;
    }
    this.recorded += records.length;
    commit.then(undefined, (err: unknown) => this.fail(records.length, err));
    return true;
  }

  /** Counts `count` lost records; the first failure is logged, the rest only counted. */
  fail(count: number, err: unknown): void {
    this.failed += count;
    if (this.failureLogged) return;
    this.failureLogged = true;
    const message = err instanceof Error ? err.message : String(err);
    log.error(`analytics write failed (${message}); further failures are counted, not logged`);
  }
}
