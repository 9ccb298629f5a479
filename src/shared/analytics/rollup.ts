/**
 * Rollups of call records per minute and per hour, kept by each writer (a shard) as records
 * arrive (docs/architecture.md#analytics-rollups). A period's cells hold, per server, method,
 * target, profile and client: counts, errors by code, bytes and a latency histogram.
 *
 * Each writer keeps the periods it is filling in memory and hands them to the store, which
 * overwrites one entry per (level, period, writer, generation) with the cumulative cells. So
 * every call is in exactly one entry per level, whatever is written when: a query sums entries
 * without deduplicating. A period evicted from memory and touched again (a late record) starts
 * a new generation rather than overwriting what was stored.
 */
import { LatencyRecorder, type StoredLatency } from './latency.js';
import type { CallRecord, CallStatus } from './types.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

export type RollupLevel = 0 | 1;
export const MINUTE_LEVEL: RollupLevel = 0;
export const HOUR_LEVEL: RollupLevel = 1;
export const LEVEL_MS: readonly [number, number] = [MINUTE_MS, HOUR_MS];

/** Stored cells' format, first in every rollup entry. */
export const ROLLUP_FORMAT = 1;

export type StoredCell = [
  server: string,
  method: string,
  target: string,
  profile: string,
  client: string,
  calls: number,
  errors: number,
  timeouts: number,
  cancelled: number,
  bytesIn: number,
  bytesOut: number,
  maxUs: number,
  /**
   * JSON-RPC error codes and their counts, flattened: [code, count, code, count, …]; the code
   * null counts a tool's own failures (`isError: true`, no JSON-RPC error).
   */
  errorCodes: (number | null)[],
  latency: StoredLatency,
];

export type StoredRollup = [format: number, ...cells: StoredCell[]];

/** [level, period start (ms), writer tag, generation]: time ranges are key ranges per level. */
export type RollupKey = [RollupLevel, number, string, number];

/** A period stays in memory this long after it ends, for calls that finish late. */
const KEEP_AFTER_END_MS = 2 * MINUTE_MS;

class Cell {
  calls = 0;
  errors = 0;
  timeouts = 0;
  cancelled = 0;
  bytesIn = 0;
  bytesOut = 0;
  maxUs = 0;
  readonly errorCodes = new Map<number | null, number>();
  readonly latency = new LatencyRecorder();

  constructor(readonly record: CallRecord) {}

  add(r: CallRecord): void {
    this.calls += 1;
    countStatus(this, r.status);
    if (r.errorCode !== null || r.status === 'error') {
      this.errorCodes.set(r.errorCode, (this.errorCodes.get(r.errorCode) ?? 0) + 1);
    }
    this.bytesIn += r.bytesIn;
    this.bytesOut += r.bytesOut;
    if (r.latencyUs > this.maxUs) this.maxUs = r.latencyUs;
    this.latency.record(r.latencyUs);
  }

  stored(): StoredCell {
    const r = this.record;
    const codes: (number | null)[] = [];
    for (const [code, count] of this.errorCodes) codes.push(code, count);
    return [
      r.server,
      r.method,
      r.target,
      r.profile,
      r.client,
      this.calls,
      this.errors,
      this.timeouts,
      this.cancelled,
      this.bytesIn,
      this.bytesOut,
      this.maxUs,
      codes,
      this.latency.stored(),
    ];
  }
}

function countStatus(cell: Cell, status: CallStatus): void {
  if (status === 'error') cell.errors += 1;
  else if (status === 'timeout') cell.timeouts += 1;
  else if (status === 'cancelled') cell.cancelled += 1;
}

class Period {
  readonly cells = new Map<string, Cell>();
  dirty = false;
  /** The minute (ms) of the last write: an hour is rewritten at most once a minute. */
  writtenMinute = -1;

  constructor(
    readonly level: RollupLevel,
    readonly start: number,
    readonly generation: number,
  ) {}

  add(r: CallRecord, key: string): void {
    let cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, (cell = new Cell(r)));
    cell.add(r);
    this.dirty = true;
  }
}

export interface RollupEntry {
  key: RollupKey;
  value: StoredRollup;
}

/** One writer's periods in progress. */
export class RollupWriter {
  /** Per level: period start → period. */
  private readonly periods: [Map<number, Period>, Map<number, Period>] = [new Map(), new Map()];
  private generation = 0;

  constructor(private readonly writer: string) {}

  add(r: CallRecord): void {
    // The cell's key, made once for both levels. NUL cannot occur in the parts' usual values
    // and only merges two cells if it does.
    const key = `${r.server}\0${r.method}\0${r.target}\0${r.profile}\0${r.client}`;
    this.period(MINUTE_LEVEL, r.ts).add(r, key);
    this.period(HOUR_LEVEL, r.ts).add(r, key);
  }

  /**
   * The periods changed since the last take, to be written; forgets those long over and
   * unchanged. An hour in progress is handed out at most once a minute (its cells are the
   * biggest entry, and queries read whole hours only once they are over), unless `all`.
   */
  take(now: number, all = false): RollupEntry[] {
    const entries: RollupEntry[] = [];
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    for (const periods of this.periods) {
      for (const [start, period] of periods) {
        const due =
          all ||
          period.level === MINUTE_LEVEL ||
          period.writtenMinute !== minute ||
          start + HOUR_MS <= now;
        if (period.dirty && due) {
          period.dirty = false;
          period.writtenMinute = minute;
          const value: StoredRollup = [ROLLUP_FORMAT];
          for (const cell of period.cells.values()) value.push(cell.stored());
          entries.push({ key: [period.level, start, this.writer, period.generation], value });
        } else if (start + LEVEL_MS[period.level] + KEEP_AFTER_END_MS < now) {
          periods.delete(start);
        }
      }
    }
    return entries;
  }

  /** Whether some period has calls not yet handed out by `take`. */
  pending(): boolean {
    for (const periods of this.periods) {
      for (const period of periods.values()) if (period.dirty) return true;
    }
    return false;
  }

  private period(level: RollupLevel, ts: number): Period {
    const length = LEVEL_MS[level];
    const start = Math.floor(ts / length) * length;
    const periods = this.periods[level];
    let period = periods.get(start);
    if (period === undefined)
      periods.set(start, (period = new Period(level, start, this.generation++)));
    return period;
  }
}
