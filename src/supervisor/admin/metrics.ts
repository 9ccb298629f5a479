/**
 * `/metrics`: the daemon in Prometheus text format, through prom-client (boundaries.json):
 *
 * - `mcp_director_calls_total` and `mcp_director_call_duration_seconds` by server, method,
 *   tool and outcome, added up from the shards' `call-stats` (shared/messages.ts) — the
 *   supervisor counts nothing per call, and the label set is bounded there;
 * - `mcp_director_backend_state` (1 for each server's current state) and
 *   `mcp_director_backend_restarts`, from the servers' states;
 * - `mcp_director_sessions` by era, protocol version and transport;
 * - `mcp_director_shard_pending_calls` per shard;
 * - prom-client's process and Node.js metrics, event-loop lag among them, prefixed
 *   `mcp_director_`.
 *
 * The histogram is fed whole buckets at a time, which prom-client's `Histogram` (one
 * `observe` per value) cannot take, so it is a metric object of its own that prom-client's
 * registry formats like any other.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import {
  CALL_LATENCY_BUCKETS_S,
  type CallStatsRow,
} from '../../shared/analytics/finished-calls.js';
import type { BackendState } from '../../shared/messages.js';

const STATES: readonly BackendState[] = [
  'starting',
  'ready',
  'restarting',
  'failed',
  'stopped',
  'idle',
  'needs-auth',
];
const CALL_LABELS = ['server', 'method', 'tool', 'outcome'] as const;
const NOT_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];
type CallLabels = Record<(typeof CALL_LABELS)[number], string>;

export interface MetricsSources {
  /** Each server's state and restarts. */
  servers: () => Iterable<[string, { state: BackendState; restarts: number }]>;
  /** Each live session's era, protocol version and transport. */
  sessions: () => Iterable<{ era: string; protocolVersion: string; transport: string }>;
  pendingPerShard: () => number[];
  /** This node's id when it is one of several: every series carries it as `node`. */
  node: string | null;
}

interface HistogramSeries {
  labels: Omit<CallLabels, 'outcome'>;
  /** Cumulative per bound, then +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Seconds over which `/api/servers` averages each server's calls per second. */
const RATE_WINDOW_S = 10;

export class Metrics {
  readonly #registry = new Registry();
  /** Per server: calls counted in each of the last seconds (a ring indexed by second). */
  readonly #recent = new Map<string, { counts: number[]; seconds: number[] }>();
  readonly #calls: Counter<(typeof CALL_LABELS)[number]>;
  readonly #durations = new Map<string, HistogramSeries>();

  constructor(sources: MetricsSources) {
    const registers = [this.#registry];
    if (sources.node !== null) this.#registry.setDefaultLabels({ node: sources.node });
    collectDefaultMetrics({ register: this.#registry, prefix: 'mcp_director_' });
    // Gauges that prom-client names like counters, which Prometheus's lint rejects; the
    // same counts remain in the `…_active_handles` and `…_active_requests` gauges.
    for (const name of NOT_COUNTERS) this.#registry.removeSingleMetric(`mcp_director_${name}`);
    this.#calls = new Counter({
      name: 'mcp_director_calls_total',
      help: 'Calls forwarded to backends, by server, method, tool (tools and prompts only) and outcome',
      labelNames: CALL_LABELS,
      registers,
    });
    const durations = this.#durations;
    this.#registry.registerMetric({
      name: 'mcp_director_call_duration_seconds',
      get: () => Promise.resolve(histogramOf(durations)),
    } as never);
    new Gauge({
      name: 'mcp_director_backend_state',
      help: 'Each server has 1 for its current state and 0 for the others',
      labelNames: ['server', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [server, status] of sources.servers()) {
          for (const state of STATES) this.set({ server, state }, status.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'mcp_director_backend_restarts',
      help: 'Restarts of each server since the daemon started (or its last config change)',
      labelNames: ['server'],
      registers,
      collect() {
        this.reset();
        for (const [server, status] of sources.servers()) this.set({ server }, status.restarts);
      },
    });
    new Gauge({
      name: 'mcp_director_sessions',
      help: 'Client sessions open now, by era, protocol version and transport',
      labelNames: ['era', 'protocol_version', 'transport'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.sessions()) {
          this.inc({ era: s.era, protocol_version: s.protocolVersion, transport: s.transport });
        }
      },
    });
    new Gauge({
      name: 'mcp_director_shard_pending_calls',
      help: 'Calls each shard holds now: forwarded and unanswered, or waiting for their server',
      labelNames: ['shard'],
      registers,
      collect() {
        this.reset();
        sources
          .pendingPerShard()
          .forEach((count, shard) => this.set({ shard: String(shard) }, count));
      },
    });
  }

  get contentType(): string {
    return this.#registry.contentType;
  }

  /**
   * A server's finished calls per second over the last ten seconds (the counts arrive about
   * once a second, so the figure trails by up to a second).
   */
  callsPerSecond(server: string, now = Date.now()): number {
    const recent = this.#recent.get(server);
    if (recent === undefined) return 0;
    const second = Math.floor(now / 1000);
    let total = 0;
    for (let i = 0; i < RATE_WINDOW_S; i++) {
      if (second - (recent.seconds[i] ?? -Infinity) < RATE_WINDOW_S) total += recent.counts[i] ?? 0;
    }
    return total / RATE_WINDOW_S;
  }

  #countRecent(server: string, count: number, now: number): void {
    let recent = this.#recent.get(server);
    if (recent === undefined) {
      recent = {
        counts: new Array<number>(RATE_WINDOW_S).fill(0),
        seconds: new Array<number>(RATE_WINDOW_S).fill(-Infinity),
      };
      this.#recent.set(server, recent);
    }
    const second = Math.floor(now / 1000);
    const slot = second % RATE_WINDOW_S;
    if (recent.seconds[slot] !== second) {
      recent.seconds[slot] = second;
      recent.counts[slot] = 0;
    }
    recent.counts[slot]! += count;
  }

  /** Adds a shard's counts (a `call-stats` message). */
  addCallStats(rows: readonly CallStatsRow[], now = Date.now()): void {
    for (const row of rows) {
      this.#countRecent(row.server, row.count, now);
      const labels: CallLabels = {
        server: row.server,
        method: row.method,
        tool: row.tool,
        outcome: row.outcome,
      };
      this.#calls.inc(labels, row.count);
      const key = `${row.server}\u0000${row.method}\u0000${row.tool}`;
      let series = this.#durations.get(key);
      if (series === undefined) {
        series = {
          labels: { server: row.server, method: row.method, tool: row.tool },
          buckets: new Array<number>(CALL_LATENCY_BUCKETS_S.length + 1).fill(0),
          sum: 0,
          count: 0,
        };
        this.#durations.set(key, series);
      }
      let running = 0;
      for (let i = 0; i < series.buckets.length; i++) {
        running += row.buckets[i] ?? 0;
        series.buckets[i]! += running;
      }
      series.sum += row.sumSeconds;
      series.count += row.count;
    }
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }
}

/** What prom-client's registry formats: a metric's name, help, type and samples. */
interface MetricSamples {
  name: string;
  help: string;
  type: 'histogram';
  values: { metricName: string; labels: Record<string, string | number>; value: number }[];
  aggregator: 'sum';
}

function histogramOf(durations: ReadonlyMap<string, HistogramSeries>): MetricSamples {
  const values: MetricSamples['values'] = [];
  const name = 'mcp_director_call_duration_seconds';
  for (const series of durations.values()) {
    CALL_LATENCY_BUCKETS_S.forEach((bound, i) => {
      values.push({
        metricName: `${name}_bucket`,
        labels: { ...series.labels, le: bound },
        value: series.buckets[i]!,
      });
    });
    values.push({
      metricName: `${name}_bucket`,
      labels: { ...series.labels, le: '+Inf' },
      value: series.buckets.at(-1)!,
    });
    values.push({ metricName: `${name}_sum`, labels: series.labels, value: series.sum });
    values.push({ metricName: `${name}_count`, labels: series.labels, value: series.count });
  }
  return {
    name,
    help: 'Time from a call reaching its shard to its answer, by server, method and tool',
    type: 'histogram',
    values,
    aggregator: 'sum',
  };
}
