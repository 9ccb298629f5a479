/**
 * Keeps the analytics store to `analytics.retentionDays`: records older are deleted shortly
 * after start and then every hour, in the background (the store prunes in short write
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

export interface RetentionTimings {
  firstMs?: number;
  everyMs?: number;
}

/** Starts the background pruning; the returned function stops it. */
export function keepRetention(
  store: AnalyticsStore,
  days: number,
  timings: RetentionTimings = {},
): () => void {
  if (!(days > 0)) return () => {};
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = (): void => {
    pruneExpired(store, days)
      .then((removed) => {
        if (removed > 0) log.info(`deleted ${removed} call records older than ${days} days`);
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
