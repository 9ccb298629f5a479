/**
 * Aggregation of call records into the `/api/stats` report. Pure: no lmdb, no I/O, so the
 * store, tests and any future running-aggregate cache share one definition of the numbers.
 *
 * Memory is bounded by the number of distinct groups (servers, tools, clients, profiles),
 * never by the number of records: latencies go into log-linear histograms, and the number
 * of tool rows per server is capped.
 */
import type { CallRecord } from './types.js';

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

export interface StatsReport {
  /** Start of the window: the query's `sinceMs`, else the first record's ts, else null. */
  from: number | null;
  /** End of the window: the query's `untilMs`, else the last record's ts, else null. */
  until: number | null;
  total: CallSummary;
  /** Sorted by calls, descending; each server's tools likewise. */
  servers: ServerStats[];
  /** The busiest clients and profiles, at most `topLimit` each. */
  clients: ClientStats[];
  profiles: ProfileStats[];
}

export interface StatsWindow {
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
}

export interface AggregatorOptions {
  /** Length of the client and profile lists. Default 20. */
  topLimit?: number;
  /** Distinct (method, target) rows kept per server; later ones fold into OTHER_TOOL. */
  maxToolsPerServer?: number;
}

/** Row that absorbs tools beyond `maxToolsPerServer` (resource URIs can be unbounded). */
export const OTHER_TOOL = '(other)';

// ───────────────────────────── latency histogram ─────────────────────────────

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/** Values below this many µs get a bucket of their own (exact). */
const EXACT_BELOW = 2 * SUB;
/** Groups with few calls keep raw values: exact percentiles and no histogram allocation. */
const RAW_LIMIT = 32;

/**
 * Worst relative error of a reported percentile against the exact nearest-rank value, above
 * EXACT_BELOW µs: a bucket spans [m·2^s, (m+1)·2^s) with m in [64, 128), and reporting its
 * midpoint is off by at most half a bucket, 1/(2m) ≤ 1/128 ≈ 0.78% of the true value.
 * Below EXACT_BELOW each whole µs has a bucket: integer latencies come out exact, fractional
 * ones within 1 µs. Groups of at most RAW_LIMIT calls are exact.
 */
export const PERCENTILE_RELATIVE_ERROR = 1 / (2 * SUB);

function bucketOf(us: number): number {
  const v = us > 0 ? Math.floor(us) : 0;
  if (v < EXACT_BELOW) return v;
  if (v < 2 ** 31) {
    // Integer fast path (latencies under ~35 min): the scan spends much of its time here.
    const shift = 31 - Math.clz32(v) - SUB_BITS;
    return ((shift + 1) << SUB_BITS) + (v >>> shift) - SUB;
  }
  let shift = Math.floor(Math.log2(v)) - SUB_BITS;
  // Math.log2 can round across a power of two for huge values; correct the exponent.
  if (Math.floor(v / 2 ** shift) < SUB) shift -= 1;
  else if (Math.floor(v / 2 ** shift) >= 2 * SUB) shift += 1;
  return (shift + 1) * SUB + Math.floor(v / 2 ** shift) - SUB;
}

/** The value reported for a bucket: its lower bound when exact, else its midpoint. */
function bucketValue(index: number): number {
  if (index < EXACT_BELOW) return index;
  const shift = Math.floor(index / SUB) - 1;
  return ((index % SUB) + SUB + 0.5) * 2 ** shift;
}

/**
 * Latencies (µs) of one group: raw values while few, then a log-linear histogram whose
 * array grows only up to the largest bucket seen (≈ 1,350 slots for one minute).
 */
export class LatencyHistogram {
  private raw: number[] | null = [];
  private counts = new Float64Array(0);
  count = 0;
  min = Infinity;
  max = 0;

  add(us: number): void {
    const v = Number.isFinite(us) && us > 0 ? us : 0;
    this.count += 1;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (this.raw !== null) {
      this.raw.push(v);
      if (this.raw.length <= RAW_LIMIT) return;
      const values = this.raw;
      this.raw = null;
      for (const x of values) this.bump(x);
      return;
    }
    this.bump(v);
  }

  /** Nearest-rank percentile (q in 0..1): exact while raw, else within the error bound. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    if (this.raw !== null) return [...this.raw].sort((a, b) => a - b)[rank - 1] ?? this.max;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(i)));
    }
    return this.max;
  }

  private bump(us: number): void {
    const index = bucketOf(us);
    if (index >= this.counts.length) {
      const grown = new Float64Array(Math.max(index + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }
}

// ───────────────────────────── groups ─────────────────────────────

class SummaryGroup {
  calls = 0;
  errors = 0;
  timeouts = 0;
  cancelled = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly latency = new LatencyHistogram();

  add(r: CallRecord): void {
    this.calls += 1;
    if (r.status === 'error') this.errors += 1;
    else if (r.status === 'timeout') this.timeouts += 1;
    else if (r.status === 'cancelled') this.cancelled += 1;
    this.bytesIn += r.bytesIn;
    this.bytesOut += r.bytesOut;
    this.latency.add(r.latencyUs);
  }

  summary(): CallSummary {
    const h = this.latency;
    return {
      calls: this.calls,
      errors: this.errors,
      timeouts: this.timeouts,
      cancelled: this.cancelled,
      p50Ms: toMs(h.quantile(0.5)),
      p90Ms: toMs(h.quantile(0.9)),
      p99Ms: toMs(h.quantile(0.99)),
      maxMs: toMs(h.max),
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }
}

class ServerGroup extends SummaryGroup {
  /** method → target → group; nested maps spare a string concatenation per record. */
  readonly tools = new Map<string, Map<string, SummaryGroup>>();
  toolCount = 0;
  other: SummaryGroup | null = null;
}

/** Microseconds to milliseconds, kept to µs resolution so JSON stays short. */
function toMs(us: number): number {
  return Math.round(us) / 1000;
}

function byCallsDescending<T extends { calls: number }>(key: (x: T) => string) {
  return (a: T, b: T): number => b.calls - a.calls || key(a).localeCompare(key(b));
}

function tally(map: Map<string, Tally>, name: string, isError: boolean): void {
  let t = map.get(name);
  if (t === undefined) map.set(name, (t = { calls: 0, errors: 0 }));
  t.calls += 1;
  if (isError) t.errors += 1;
}

/** Feed records one by one with `add`, then read `report`. Does not retain the records. */
export class StatsAggregator {
  private readonly total = new SummaryGroup();
  private readonly servers = new Map<string, ServerGroup>();
  private readonly clients = new Map<string, Tally>();
  private readonly profiles = new Map<string, Tally>();
  private readonly topLimit: number;
  private readonly maxToolsPerServer: number;
  private firstTs = Infinity;
  private lastTs = -Infinity;

  constructor(options: AggregatorOptions = {}) {
    this.topLimit = options.topLimit ?? 20;
    this.maxToolsPerServer = options.maxToolsPerServer ?? 1000;
  }

  add(r: CallRecord): void {
    if (r.ts < this.firstTs) this.firstTs = r.ts;
    if (r.ts > this.lastTs) this.lastTs = r.ts;
    this.total.add(r);
    let server = this.servers.get(r.server);
    if (server === undefined) this.servers.set(r.server, (server = new ServerGroup()));
    server.add(r);
    this.toolGroup(server, r.method, r.target).add(r);
    const isError = r.status === 'error';
    tally(this.clients, r.client, isError);
    tally(this.profiles, r.profile, isError);
  }

  report(window: StatsWindow = {}): StatsReport {
    const empty = this.total.calls === 0;
    const servers: ServerStats[] = [];
    for (const [name, group] of this.servers) {
      const tools: ToolStats[] = [];
      for (const [method, targets] of group.tools) {
        for (const [tool, g] of targets) tools.push({ tool, method, ...g.summary() });
      }
      if (group.other !== null)
        tools.push({ tool: OTHER_TOOL, method: '*', ...group.other.summary() });
      tools.sort(byCallsDescending((t) => `${t.tool}\n${t.method}`));
      servers.push({ server: name, ...group.summary(), tools });
    }
    servers.sort(byCallsDescending((s) => s.server));
    return {
      from: window.sinceMs ?? (empty ? null : this.firstTs),
      until: window.untilMs ?? (empty ? null : this.lastTs),
      total: this.total.summary(),
      servers,
      clients: this.top(this.clients).map(([client, t]) => ({ client, ...t })),
      profiles: this.top(this.profiles).map(([profile, t]) => ({ profile, ...t })),
    };
  }

  private top(map: Map<string, Tally>): [string, Tally][] {
    return [...map]
      .sort(([a, x], [b, y]) => y.calls - x.calls || a.localeCompare(b))
      .slice(0, this.topLimit);
  }

  private toolGroup(server: ServerGroup, method: string, target: string): SummaryGroup {
    let targets = server.tools.get(method);
    const known = targets?.get(target);
    if (known !== undefined) return known;
    if (server.toolCount >= this.maxToolsPerServer) {
      return (server.other ??= new SummaryGroup());
    }
    if (targets === undefined) server.tools.set(method, (targets = new Map()));
    const group = new SummaryGroup();
    targets.set(target, group);
    server.toolCount += 1;
    return group;
  }
}
