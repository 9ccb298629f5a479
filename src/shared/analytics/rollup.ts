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
import type { CallRecord } from './types.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

export const DAY_MS = 24 * HOUR_MS;

export type RollupLevel = 0 | 1 | 2;
export const MINUTE_LEVEL: RollupLevel = 0;
export const HOUR_LEVEL: RollupLevel = 1;
/** Days (UTC): a week's query reads ~7 of them instead of ~170 hours. */
export const DAY_LEVEL: RollupLevel = 2;
export const LEVELS: readonly RollupLevel[] = [MINUTE_LEVEL, HOUR_LEVEL, DAY_LEVEL];
export const LEVEL_MS: readonly [number, number, number] = [MINUTE_MS, HOUR_MS, DAY_MS];

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

/** Slots of a cell's counters. */
const CALLS = 0;
const ERRORS = 1;
const TIMEOUTS = 2;
const CANCELLED = 3;
const BYTES_IN = 4;
const BYTES_OUT = 5;
const MAX_US = 6;

class Cell {
  /**
   * The counters, unboxed: as class fields, a sum past 2^30 (an hour's bytes) became a heap
   * number and each `+=` allocated one (~140 ns a call, measured).
   */
  readonly n = new Float64Array(7);
  readonly errorCodes = new Map<number | null, number>();
  readonly latency = new LatencyRecorder();

  /** The cell's key: its first record's server, method, target, profile and client. */
  readonly key: readonly [string, string, string, string, string];

  constructor(r: CallRecord) {
    // Only the key is kept, not the record (its error text and payloads would live on).
    this.key = [r.server, r.method, r.target, r.profile, r.client];
  }

  add(r: CallRecord): void {
    const n = this.n;
    n[CALLS]! += 1;
    if (r.status !== 'ok') {
      if (r.status === 'error') n[ERRORS]! += 1;
      else if (r.status === 'timeout') n[TIMEOUTS]! += 1;
      else if (r.status === 'cancelled') n[CANCELLED]! += 1;
      if (r.errorCode !== null || r.status === 'error') {
        this.errorCodes.set(r.errorCode, (this.errorCodes.get(r.errorCode) ?? 0) + 1);
      }
    }
    n[BYTES_IN]! += r.bytesIn;
    n[BYTES_OUT]! += r.bytesOut;
    if (r.latencyUs > n[MAX_US]!) n[MAX_US] = r.latencyUs;
    this.latency.record(r.latencyUs);
  }

  stored(): StoredCell {
    const [server, method, target, profile, client] = this.key;
    const n = this.n;
    const codes: (number | null)[] = [];
    for (const [code, count] of this.errorCodes) codes.push(code, count);
    return [
      server,
      method,
      target,
      profile,
      client,
      n[CALLS]!,
      n[ERRORS]!,
      n[TIMEOUTS]!,
      n[CANCELLED]!,
      n[BYTES_IN]!,
      n[BYTES_OUT]!,
      n[MAX_US]!,
      codes,
      this.latency.stored(),
    ];
  }
}

type CellIndex = Map<string, Map<string, Map<string, Map<string, Map<string, Cell>>>>>;

/** The map under `key`, made empty when missing. */
function inner<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let child = map.get(key);
  if (child === undefined) map.set(key, (child = new Map()));
  return child;
}

class Period {
  /** In order of creation, for writing. */
  readonly cells: Cell[] = [];
  /**
   * server → method → target → profile → client → cell. Nested maps of the record's own
   * strings: a key made by concatenating them cost ~0.4 µs a call (the string is built and
   * hashed anew each time), three times the rest of the rollup.
   */
  readonly #index: CellIndex = new Map();
  dirty = false;
  /** The minute (ms) of the last write: an hour is rewritten at most once a minute. */
  writtenMinute = -1;

  constructor(
    readonly level: RollupLevel,
    readonly start: number,
    readonly generation: number,
  ) {}

  add(r: CallRecord): void {
    const byClient = inner(
      inner(inner(inner(this.#index, r.server), r.method), r.target),
      r.profile,
    );
    let cell = byClient.get(r.client);
    if (cell === undefined) {
      byClient.set(r.client, (cell = new Cell(r)));
      this.cells.push(cell);
    }
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
  private readonly periods: [Map<number, Period>, Map<number, Period>, Map<number, Period>] = [
    new Map(),
    new Map(),
    new Map(),
  ];
  private generation = 0;

  constructor(private readonly writer: string) {}

  add(r: CallRecord): void {
    this.period(MINUTE_LEVEL, r.ts).add(r);
    this.period(HOUR_LEVEL, r.ts).add(r);
    this.period(DAY_LEVEL, r.ts).add(r);
  }

  /**
   * The periods changed since the last take, to be written; forgets those long over and
   * unchanged. An hour or a day in progress is handed out at most once a minute (its cells are
   * the biggest entries, and queries read whole periods only once they are over), unless `all`.
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
          start + LEVEL_MS[period.level] <= now;
        if (period.dirty && due) {
          period.dirty = false;
          period.writtenMinute = minute;
          const value: StoredRollup = [ROLLUP_FORMAT];
          for (const cell of period.cells) value.push(cell.stored());
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
