/**
 * Aggregation of rollup cells into the `/api/stats` report. Pure: no lmdb, no I/O, so the
 * store, tests and the benchmark share one definition of the numbers.
 *
 * Memory is bounded by the number of distinct groups (servers, tools, clients, profiles,
 * series points), never by the number of calls; the number of tool rows per server is capped.
 */
import { LatencySum } from './latency.js';
import type { StoredCell } from './rollup.js';

/** Counts and latency figures shared by the total, each server and each tool. */
export interface CallSummary {
  calls: number;
  /** Status 'error' only; timeouts and cancellations are counted apart. */
  errors: number;
  timeouts: number;
  cancelled: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ToolStats extends CallSummary {
  /** The call's target: tool or prompt name as the backend knows it, or a resource URI. */
  tool: string;
  method: string;
}

export interface ServerStats extends CallSummary {
  server: string;
  tools: ToolStats[];
}

interface Tally {
  calls: number;
  /** Status 'error' only, as in CallSummary. */
  errors: number;
}

export type ClientStats = Tally & { client: string };
export type ProfileStats = Tally & { profile: string };

/** One JSON-RPC error code of one tool, with how often it was answered. */
export interface ErrorStats {
  server: string;
  tool: string;
  method: string;
  /** null: the tool's own failure (a result with `isError: true`). */
  code: number | null;
  count: number;
}

/** One point of the time series: the calls of the period starting at `t`. */
export interface SeriesPoint {
  t: number;
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StatsReport {
  /** Start of the window (whole minutes; hours beyond a day): the query's, else the first period's, else null. */
  from: number | null;
  /** End of the window (exclusive, whole minutes), else the last period's end, else null. */
  until: number | null;
  total: CallSummary;
  /** Sorted by calls, descending; each server's tools likewise. */
  servers: ServerStats[];
  /** The busiest clients and profiles, at most `topLimit` each. */
  clients: ClientStats[];
  profiles: ProfileStats[];
  /** The most frequent error codes per tool, at most `topLimit`. */
  errors: ErrorStats[];
  /** Present when the query asked for one: calls per period, oldest first. */
  series?: { bucketMs: number; points: SeriesPoint[] };
}

export interface AggregatorOptions {
  /** Length of the client, profile and error lists. Default 20. */
  topLimit?: number;
  /** Distinct (method, target) rows kept per server; later ones fold into OTHER_TOOL. */
  maxToolsPerServer?: number;
  /** Adds a time series with points this long (a multiple of the periods added). */
  seriesBucketMs?: number;
}

/** Row that absorbs tools beyond `maxToolsPerServer` (resource URIs can be unbounded). */
export const OTHER_TOOL = '(other)';

/** The slots of StoredCell, named (cells come from disk: each is checked before use). */
const C = {
  server: 0,
  method: 1,
  target: 2,
  profile: 3,
  client: 4,
  calls: 5,
  errors: 6,
  timeouts: 7,
  cancelled: 8,
  bytesIn: 9,
  bytesOut: 10,
  maxUs: 11,
  errorCodes: 12,
  latency: 13,
} as const;

/** Whether a value read from disk has StoredCell's shape. */
export function isStoredCell(value: unknown): value is StoredCell {
  if (!Array.isArray(value) || value.length < 14) return false;
  for (let i = C.server; i <= C.client; i++) if (typeof value[i] !== 'string') return false;
  for (let i = C.calls; i <= C.maxUs; i++) if (typeof value[i] !== 'number') return false;
  return Array.isArray(value[C.errorCodes]);
}

class SummaryGroup {
  calls = 0;
  errors = 0;
  timeouts = 0;
  cancelled = 0;
  bytesIn = 0;
  bytesOut = 0;
  maxUs = 0;
  readonly latency = new LatencySum();

  /** Counts only: a server's and the total's latencies are merged from their tools'. */
  addCounts(cell: StoredCell): void {
    this.calls += cell[C.calls];
    this.errors += cell[C.errors];
    this.timeouts += cell[C.timeouts];
    this.cancelled += cell[C.cancelled];
    this.bytesIn += cell[C.bytesIn];
    this.bytesOut += cell[C.bytesOut];
    if (cell[C.maxUs] > this.maxUs) this.maxUs = cell[C.maxUs];
  }

  add(cell: StoredCell): void {
    this.addCounts(cell);
    this.latency.add(cell[C.latency]);
  }

  summary(): CallSummary {
    const [p50, p90, p99] = this.latency.percentiles([50, 90, 99]);
    return {
      calls: this.calls,
      errors: this.errors,
      timeouts: this.timeouts,
      cancelled: this.cancelled,
      // A percentile is its bucket's highest value; never report one above the true max.
      p50Ms: toMs(Math.min(p50 ?? 0, this.maxUs)),
      p90Ms: toMs(Math.min(p90 ?? 0, this.maxUs)),
      p99Ms: toMs(Math.min(p99 ?? 0, this.maxUs)),
      maxMs: toMs(this.maxUs),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }
}

class ToolGroup extends SummaryGroup {
  readonly codes = new Map<number | null, number>();
}

class ServerGroup extends SummaryGroup {
  /** method → target → group; nested maps spare a string concatenation per cell. */
  readonly tools = new Map<string, Map<string, ToolGroup>>();
  toolCount = 0;
  other: ToolGroup | null = null;
}

class SeriesGroup {
  calls = 0;
  errors = 0;
  maxUs = 0;
  readonly latency = new LatencySum();
}

/** Microseconds to milliseconds, kept to µs resolution so JSON stays short. */
function toMs(us: number): number {
  return Math.round(us) / 1000;
}

function byCallsDescending<T extends { calls: number }>(key: (x: T) => string) {
  return (a: T, b: T): number => b.calls - a.calls || key(a).localeCompare(key(b));
}

function tally(map: Map<string, Tally>, name: string, cell: StoredCell): void {
  let t = map.get(name);
  if (t === undefined) map.set(name, (t = { calls: 0, errors: 0 }));
  t.calls += cell[C.calls];
  t.errors += cell[C.errors];
}

export interface CellWindow {
  from: number | null;
  until: number | null;
}

/** Feed cells with `add`, then read `report`. Does not retain the cells. */
export class StatsAggregator {
  private readonly total = new SummaryGroup();
  private readonly servers = new Map<string, ServerGroup>();
  private readonly clients = new Map<string, Tally>();
  private readonly profiles = new Map<string, Tally>();
  private readonly series = new Map<number, SeriesGroup>();
  private readonly topLimit: number;
  private readonly maxToolsPerServer: number;
  private readonly seriesBucketMs: number | undefined;
  private firstStart = Infinity;
  private lastEnd = -Infinity;

  constructor(options: AggregatorOptions = {}) {
    this.topLimit = options.topLimit ?? 20;
    this.maxToolsPerServer = options.maxToolsPerServer ?? 1000;
    this.seriesBucketMs = options.seriesBucketMs;
  }

  /** Adds one cell of the period [start, start + length). */
  add(cell: StoredCell, start: number, length: number): void {
    if (start < this.firstStart) this.firstStart = start;
    if (start + length > this.lastEnd) this.lastEnd = start + length;
    this.total.addCounts(cell);
    const name = cell[C.server];
    let server = this.servers.get(name);
    if (server === undefined) this.servers.set(name, (server = new ServerGroup()));
    server.addCounts(cell);
    const tool = this.toolGroup(server, cell[C.method], cell[C.target]);
    tool.add(cell);
    const codes = cell[C.errorCodes];
    for (let i = 0; i + 1 < codes.length; i += 2) {
      const code = codes[i];
      const count = codes[i + 1];
      if ((typeof code === 'number' || code === null) && typeof count === 'number') {
        tool.codes.set(code, (tool.codes.get(code) ?? 0) + count);
      }
    }
    tally(this.clients, cell[C.client], cell);
    tally(this.profiles, cell[C.profile], cell);
    if (this.seriesBucketMs !== undefined) this.addToSeries(cell, start);
  }

  report(window: Partial<CellWindow> = {}): StatsReport {
    const empty = this.total.calls === 0;
    // Tools' latencies are merged into servers' and the total's here, so report() once.
    const servers: ServerStats[] = [];
    const errors: ErrorStats[] = [];
    for (const [name, group] of this.servers) {
      const tools: ToolStats[] = [];
      const addTool = (tool: string, method: string, g: ToolGroup): void => {
        group.latency.merge(g.latency);
        tools.push({ tool, method, ...g.summary() });
        for (const [code, count] of g.codes)
          errors.push({ server: name, tool, method, code, count });
      };
      for (const [method, targets] of group.tools) {
        for (const [tool, g] of targets) addTool(tool, method, g);
      }
      if (group.other !== null) addTool(OTHER_TOOL, '*', group.other);
      tools.sort(byCallsDescending((t) => `${t.tool}\n${t.method}`));
      this.total.latency.merge(group.latency);
      servers.push({ server: name, ...group.summary(), tools });
    }
    servers.sort(byCallsDescending((s) => s.server));
    errors.sort((a, b) => b.count - a.count || (a.code ?? 0) - (b.code ?? 0));
    const report: StatsReport = {
      from: window.from ?? (empty ? null : this.firstStart),
      until: window.until ?? (empty ? null : this.lastEnd),
      total: this.total.summary(),
      servers,
      clients: this.top(this.clients).map(([client, t]) => ({ client, ...t })),
      profiles: this.top(this.profiles).map(([profile, t]) => ({ profile, ...t })),
      errors: errors.slice(0, this.topLimit),
    };
    if (this.seriesBucketMs !== undefined) {
      const points: SeriesPoint[] = [];
      for (const [t, g] of [...this.series].sort(([a], [b]) => a - b)) {
        const [p50, p99] = g.latency.percentiles([50, 99]);
        points.push({
          t,
          calls: g.calls,
          errors: g.errors,
          p50Ms: toMs(Math.min(p50 ?? 0, g.maxUs)),
          p99Ms: toMs(Math.min(p99 ?? 0, g.maxUs)),
        });
      }
      report.series = { bucketMs: this.seriesBucketMs, points };
    }
    return report;
  }

  private addToSeries(cell: StoredCell, start: number): void {
    const bucket = this.seriesBucketMs ?? 1;
    const t = Math.floor(start / bucket) * bucket;
    let g = this.series.get(t);
    if (g === undefined) this.series.set(t, (g = new SeriesGroup()));
    g.calls += cell[C.calls];
    g.errors += cell[C.errors];
    if (cell[C.maxUs] > g.maxUs) g.maxUs = cell[C.maxUs];
    g.latency.add(cell[C.latency]);
  }

  private top(map: Map<string, Tally>): [string, Tally][] {
    return [...map]
      .sort(([a, x], [b, y]) => y.calls - x.calls || a.localeCompare(b))
      .slice(0, this.topLimit);
  }

  private toolGroup(server: ServerGroup, method: string, target: string): ToolGroup {
    let targets = server.tools.get(method);
    const known = targets?.get(target);
    if (known !== undefined) return known;
    if (server.toolCount >= this.maxToolsPerServer) {
      return (server.other ??= new ToolGroup());
    }
    if (targets === undefined) server.tools.set(method, (targets = new Map()));
    const group = new ToolGroup();
    targets.set(target, group);
    server.toolCount += 1;
    return group;
  }
}

/** Cell slots the store filters on. */
export const CELL_SLOTS = C;
