/**
 * Keeps the analytics store to `analytics.retentionDays` and `analytics.maxSizeMB`: records
 * older are deleted shortly after start and then every hour, then the oldest records while
 * they take more than the size, in the background (the store prunes in short write
 * transactions of its own, so calls being recorded meanwhile are not held up).
 */
import type { AnalyticsStore } from '../../shared/analytics/store.js';
import { logger } from '../../shared/log.js';

const log = logger('analytics');

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first prune waits this long, so a start is not slowed by it. */
const FIRST_PRUNE_MS = 10_000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Deletes the records older than `days` before `now`; resolves to how many went. */
export async function pruneExpired(
  store: AnalyticsStore,
  days: number,
  now = Date.now(),
): Promise<number> {
  if (!(days > 0)) return 0;
  return store.prune(now - days * DAY_MS);
}

/** Deletes the oldest records while they take more than `maxMB` MiB; 0: no limit. */
export async function pruneOversize(store: AnalyticsStore, maxMB: number): Promise<number> {
  if (!(maxMB > 0)) return 0;
  return store.pruneToSize(maxMB * 1024 * 1024);
}

export interface RetentionLimits {
  days: number;
  maxSizeMB: number;
}

export interface RetentionTimings {
  firstMs?: number;
  everyMs?: number;
}

/** Starts the background pruning; the returned function stops it. */
export function keepRetention(
  store: AnalyticsStore,
  limits: RetentionLimits,
  timings: RetentionTimings = {},
): () => void {
  const { days, maxSizeMB } = limits;
  if (!(days > 0) && !(maxSizeMB > 0)) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = (): void => {
    pruneExpired(store, days)
      .then(async (removed) => {
        if (removed > 0) log.info(`deleted ${removed} call records older than ${days} days`);
        const over = await pruneOversize(store, maxSizeMB);
        if (over > 0) {
          log.info(`deleted the ${over} oldest call records to keep them under ${maxSizeMB} MiB`);
        }
      })
      .catch((error: unknown) => {
        if (!stopped) log.warn(`pruning the call records failed: ${String(error)}`);
      })
      .finally(() => {
        if (stopped) return;
        timer = setTimeout(run, timings.everyMs ?? PRUNE_EVERY_MS);
        timer.unref();
      });
  };
  timer = setTimeout(run, timings.firstMs ?? FIRST_PRUNE_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
