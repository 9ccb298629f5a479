/**
 * When to restart a backend that exited or failed to start
 * (docs/architecture.md#processes-and-failure): exponential backoff from 250 ms doubling up to
 * 30 s; a backend that stayed up for a minute starts over at 250 ms; five failures in a row (or
 * a failure before the first successful start) is a crash loop, shown as `failed` while the
 * retries go on at the capped pace.
 */
export const RESTART_BASE_MS = 250;
export const RESTART_MAX_MS = 30_000;
export const HEALTHY_RESET_MS = 60_000;
export const CRASH_LOOP_FAILURES = 5;

/** Delay before the next start, given how many failures in a row happened (≥ 1). */
export function restartDelayMs(consecutiveFailures: number): number {
  const exponent = Math.max(0, consecutiveFailures - 1);
  return Math.min(RESTART_BASE_MS * 2 ** exponent, RESTART_MAX_MS);
}

/**
 * Counts failures in a row: an exit after at least HEALTHY_RESET_MS of ready time starts
 * a new count, anything shorter extends the current one.
 */
export function nextFailureCount(previous: number, readyForMs: number | null): number {
  if (readyForMs !== null && readyForMs >= HEALTHY_RESET_MS) return 1;
  return previous + 1;
}

/** Whether the backend should be reported as `failed` rather than `restarting`. */
export function isCrashLoop(consecutiveFailures: number, everReady: boolean): boolean {
  return !everReady || consecutiveFailures >= CRASH_LOOP_FAILURES;
}
