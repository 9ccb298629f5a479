/**
 * Answers a stats query from the rollups (docs/architecture.md#analytics-rollups): the
 * window in whole minutes (whole hours beyond a day), whole hours read from the hourly level and the minutes at either
 * side from the minutes', so every call is summed once and a week reads ~170 hourly entries
 * per writer rather than millions of records.
 */
import {
  DAY_LEVEL,
  HOUR_MS,
  LEVEL_MS,
  LEVELS,
  MINUTE_LEVEL,
  MINUTE_MS,
  ROLLUP_FORMAT,
  type RollupKey,
  type RollupLevel,
} from './rollup.js';
import { CELL_SLOTS, isStoredCell, StatsAggregator, type StatsReport } from './stats.js';
import type { CallFilter } from './types.js';

/**
 * Filters of a stats query; the window is widened to whole minutes (or hours, see
 * `alignedWindow`).
 */
export interface StatsQuery extends CallFilter {
  /** Adds a time series of this many ms per point: a multiple of a minute. */
  seriesBucketMs?: number;
}

export interface KeyRange {
  start: RollupKey;
  end: RollupKey;
}

/** The reading side of the rollup database (lmdb's getRange, kept behind the store). */
export type RollupReader = (range: KeyRange) => Iterable<{ key: RollupKey; value: unknown }>;

/** A key range of one rollup level: [level, from] up to (excluding) [level, to]. */
export function levelRange(level: RollupLevel, from: number, to: number): KeyRange {
  return {
    start: [level, from] as unknown as RollupKey,
    end: [level, to] as unknown as RollupKey,
  };
}

/** Windows longer than this are read in whole hours: a minute is noise at that scale. */
export const HOURLY_BEYOND_MS = 24 * HOUR_MS;

/**
 * The query's window in whole minutes, or whole hours when longer than a day (so a week
 * reads ~170 hourly entries per writer and no minutes); an open end stays open.
 */
function alignedWindow(query: StatsQuery): { since: number; until: number } {
  const since = query.sinceMs ?? 0;
  const until = query.untilMs ?? Number.MAX_SAFE_INTEGER;
  const step = until - since > HOURLY_BEYOND_MS ? HOUR_MS : MINUTE_MS;
  return {
    since: Math.floor(since / step) * step,
    until: query.untilMs === undefined ? until : Math.ceil(until / step) * step,
  };
}

/**
 * The rollup ranges that cover [since, until) with every call once: the whole periods of
 * `level` inside, and the rest at either side from the level below, down to minutes.
 */
function coveringRanges(since: number, until: number, level: RollupLevel): KeyRange[] {
  if (since >= until) return [];
  if (level === MINUTE_LEVEL) return [levelRange(MINUTE_LEVEL, since, until)];
  const length = LEVEL_MS[level];
  const below = (level - 1) as RollupLevel;
  const first = Math.ceil(since / length) * length;
  const last = Math.floor(until / length) * length;
  if (first >= last) return coveringRanges(since, until, below);
  return [
    ...coveringRanges(since, first, below),
    levelRange(level, first, last),
    ...coveringRanges(last, until, below),
  ];
}

/** The coarsest level whose periods fit a series of `bucketMs` (all of them without one). */
function coarsestFor(bucketMs: number | undefined): RollupLevel {
  if (bucketMs === undefined) return DAY_LEVEL;
  let level = MINUTE_LEVEL;
  for (const candidate of LEVELS) if (bucketMs % LEVEL_MS[candidate] === 0) level = candidate;
  return level;
}

export function sumRollups(read: RollupReader, query: StatsQuery): StatsReport {
  const { seriesBucketMs, server, tool, client, profile } = query;
  const aggregator = new StatsAggregator(seriesBucketMs === undefined ? {} : { seriesBucketMs });
  const { since, until } = alignedWindow(query);
  for (const range of coveringRanges(since, until, coarsestFor(seriesBucketMs))) {
    for (const { key, value } of read(range)) {
      if (!Array.isArray(value) || value[0] !== ROLLUP_FORMAT) continue;
      const [level, start] = key;
      const length = LEVEL_MS[level];
      for (let i = 1; i < value.length; i++) {
        const cell: unknown = value[i];
        if (!isStoredCell(cell)) continue;
        if (server !== undefined && cell[CELL_SLOTS.server] !== server) continue;
        if (tool !== undefined && cell[CELL_SLOTS.target] !== tool) continue;
        if (client !== undefined && cell[CELL_SLOTS.client] !== client) continue;
        if (profile !== undefined && cell[CELL_SLOTS.profile] !== profile) continue;
        aggregator.add(cell, start, length);
      }
    }
  }
  return aggregator.report({
    ...(query.sinceMs !== undefined && { from: since }),
    ...(query.untilMs !== undefined && { until }),
  });
}
