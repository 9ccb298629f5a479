/**
 * Reading `/api/stats` tolerantly: the report's shape is growing (per-tool, per-client and
 * bucketed time series), so every field is optional here and a missing one shows as nothing.
 */
export interface Summary {
  calls?: number;
  errors?: number;
  timeouts?: number;
  cancelled?: number;
  p50Ms?: number;
  p99Ms?: number;
}

export interface ToolRow extends Summary {
  server: string;
  tool: string;
  method?: string;
}

export interface StatsReport {
  total?: Summary;
  servers?: Array<
    Summary & { server: string; tools?: Array<Summary & { tool: string; method?: string }> }
  >;
  /** The most frequent error codes per tool, where the daemon reports them. */
  errors?: Array<{ server: string; tool: string; method?: string; code: number; count: number }>;
  /** A time series, when asked for (`bucket=`): `{bucketMs, points}` or a list of points. */
  series?: unknown;
  buckets?: unknown;
}

export function topTools(report: StatsReport | undefined, limit = 10): ToolRow[] {
  const rows: ToolRow[] = [];
  for (const server of report?.servers ?? []) {
    for (const tool of server.tools ?? []) rows.push({ ...tool, server: server.server });
  }
  return rows.sort((a, b) => (b.calls ?? 0) - (a.calls ?? 0)).slice(0, limit);
}

/** The report's most frequent error codes, if it has them. */
export function topErrors(
  report: StatsReport | undefined,
  limit = 10,
): NonNullable<StatsReport['errors']> {
  return Array.isArray(report?.errors) ? report.errors.slice(0, limit) : [];
}

export function erroringTools(report: StatsReport | undefined, limit = 10): ToolRow[] {
  return topTools(report, Number.MAX_SAFE_INTEGER)
    .filter((row) => (row.errors ?? 0) + (row.timeouts ?? 0) > 0)
    .sort((a, b) => (b.errors ?? 0) + (b.timeouts ?? 0) - ((a.errors ?? 0) + (a.timeouts ?? 0)))
    .slice(0, limit);
}

/**
 * [seconds, p50, p99] from the report's time series when it has one (`series: {points}`, or a
 * list of points in `series` or `buckets`, each with `t`/`ts`/`start` and `p50Ms`/`p99Ms`),
 * else undefined.
 */
export function latencySeries(
  report: StatsReport | undefined,
): [number[], (number | null)[], (number | null)[]] | undefined {
  const nested = (report?.series as { points?: unknown } | undefined)?.points;
  const points = Array.isArray(nested)
    ? nested
    : Array.isArray(report?.series)
      ? report.series
      : Array.isArray(report?.buckets)
        ? report.buckets
        : undefined;
  if (points === undefined || points.length === 0) return undefined;
  const xs: number[] = [];
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  for (const point of points) {
    if (typeof point !== 'object' || point === null) continue;
    const p = point as Record<string, unknown>;
    const time = [p['ts'], p['start'], p['t'], p['from']].find((v) => typeof v === 'number');
    if (typeof time !== 'number') continue;
    xs.push(time > 1e11 ? time / 1000 : time);
    p50.push(typeof p['p50Ms'] === 'number' ? p['p50Ms'] : null);
    p99.push(typeof p['p99Ms'] === 'number' ? p['p99Ms'] : null);
  }
  return xs.length > 0 ? [xs, p50, p99] : undefined;
}
