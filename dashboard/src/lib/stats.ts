/**
 * Reading `/api/stats` (README "HTTP API"): what the pages use of the report. The daemon's
 * answer is still checked as it is read, so a field it lacks shows as nothing.
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
  /** The window's start (ms), aligned to the rollups' periods. */
  from?: number | null;
  total?: Summary;
  servers?: Array<
    Summary & { server: string; tools?: Array<Summary & { tool: string; method?: string }> }
  >;
  /** The most frequent error codes per tool, where the daemon reports them. */
  errors?: Array<{
    server: string;
    tool: string;
    method?: string;
    code: number | null;
    count: number;
  }>;
  /** A time series, when asked for (`bucket=`). */
  series?: { bucketMs: number; points: unknown[] };
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

/**
 * [seconds, p50, p99] of the report's time series (`series.points`), one point per bucket
 * from the window's start to `now` (null where no call was made, so the axis spans the whole
 * window); undefined when the report has no series.
 */
export function latencySeries(
  report: StatsReport | undefined,
  now = Date.now(),
): [number[], (number | null)[], (number | null)[]] | undefined {
  const series = report?.series;
  const points = series?.points;
  if (series === undefined || !Array.isArray(points) || points.length === 0) return undefined;
  const step = series.bucketMs;
  const byStart = new Map<number, Record<string, unknown>>();
  for (const point of points) {
    if (typeof point !== 'object' || point === null) continue;
    const p = point as Record<string, unknown>;
    if (typeof p['t'] === 'number') byStart.set(p['t'], p);
  }
  const first = typeof report?.from === 'number' ? report.from : Math.min(...byStart.keys());
  const xs: number[] = [];
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  for (let t = first; t <= now && xs.length < 10_000; t += step) {
    const p = byStart.get(t);
    xs.push(t / 1000);
    p50.push(typeof p?.['p50Ms'] === 'number' ? p['p50Ms'] : null);
    p99.push(typeof p?.['p99Ms'] === 'number' ? p['p99Ms'] : null);
  }
  return xs.length > 0 ? [xs, p50, p99] : undefined;
}
