/**
 * What a shard tells the supervisor about the calls it finished, besides the records it
 * stores: counts per latency bucket for `/metrics` (`call-stats`), and each call for the
 * live feed (`calls`) while someone watches (src/shared/messages.ts;
 * docs/architecture.md#metrics-off-the-hot-path).
 */

/**
 * Upper bounds (seconds) of the call-latency buckets the shards count into and `/metrics`
 * shows; the last bucket (+Inf) is implied. From 1 ms (a local echo) to 60 s (a default
 * call timeout).
 */
export const CALL_LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/** The calls of one (server, method, tool, outcome) since the last `call-stats`. */
export interface CallStatsRow {
  server: string;
  method: string;
  /** The backend's tool or prompt name; '' for other methods (their targets are unbounded). */
  tool: string;
  outcome: 'ok' | 'error' | 'timeout' | 'cancelled';
  count: number;
  /** Calls per latency bucket (not cumulative); one more entry than the bounds, for +Inf. */
  buckets: number[];
  sumSeconds: number;
}

/** One finished call, as the live feed shows it. */
export interface LiveCall {
  /** When it reached the shard, ms since the epoch. */
  ts: number;
  server: string;
  method: string;
  /** Tool or prompt name (the backend's), or resource URI. */
  target: string;
  status: 'ok' | 'error' | 'timeout' | 'cancelled';
  errorCode: number | null;
  /** What the caller was told (shortened), when the call failed. */
  error?: string;
  latencyUs: number;
  profile: string;
  client: string;
}
