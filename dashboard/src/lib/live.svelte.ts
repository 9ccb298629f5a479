/**
 * The live feed, read once for every page: `/api/events` brings each server's state and every
 * finished call. Kept here for the current tab only: the last calls, calls and errors per
 * second for two minutes, and latency percentiles per 10 s for ten minutes. Nothing survives
 * a reload; history is the API's (`/api/stats`, `/api/calls`).
 */
import { SvelteMap } from 'svelte/reactivity';
import { readEvents } from './api.ts';

/** A finished call as `/api/events` sends it (src/shared/analytics/finished-calls.ts `LiveCall`). */
export interface LiveCall {
  ts: number;
  server: string;
  method: string;
  target: string;
  status: string;
  errorCode: number | null;
  latencyUs?: number;
  latencyMs?: number;
  profile: string;
  client: string;
  session?: string;
  error?: string;
  bytesIn?: number;
  bytesOut?: number;
}

export interface ServerLive {
  state: string;
  restarts: number;
}

const KEEP_CALLS = 1000;
const SECONDS = 120;
const LATENCY_BUCKET_MS = 10_000;
const LATENCY_BUCKETS = 60;

export function latencyMsOf(call: LiveCall): number {
  return call.latencyMs ?? (call.latencyUs ?? 0) / 1000;
}

class LiveFeed {
  connected = $state(false);
  /** Bumped once a second and on every batch of events: charts redraw on it. */
  tick = $state(0);
  readonly servers = new SvelteMap<string, ServerLive>();
  /** Newest first. */
  calls = $state.raw<LiveCall[]>([]);
  /** Counts per error code (or status), for "top errors". */
  readonly errors = new SvelteMap<string, { count: number; sample: LiveCall }>();
  readonly #perSecond = new Map<number, { calls: number; errors: number }>();
  readonly #latencies = new Map<number, number[]>();
  #abort: AbortController | undefined;
  #pending: LiveCall[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  start(): void {
    if (this.#abort !== undefined) return;
    this.#abort = new AbortController();
    this.#timer = setInterval(() => {
      this.#flush();
      this.tick++;
    }, 1000);
    void this.#run(this.#abort.signal);
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = undefined;
    clearInterval(this.#timer);
    this.connected = false;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await readEvents(
          signal,
          () => (this.connected = true),
          (name, data) => this.#event(name, data),
        );
      } catch {
        // dropped or refused: try again shortly
      }
      this.connected = false;
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  #event(name: string, data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    if (name === 'server') {
      const { server, state, restarts } = data as { server: string } & ServerLive;
      if (typeof server === 'string') this.servers.set(server, { state, restarts });
    } else if (name === 'call') {
      this.#pending.push(data as LiveCall);
      if (this.#pending.length === 1) queueMicrotask(() => this.#flush());
    }
  }

  /** Takes the calls that arrived since the last flush into the lists and counters. */
  #flush(): void {
    if (this.#pending.length === 0) return;
    const arrived = this.#pending.reverse();
    this.#pending = [];
    for (const call of arrived) {
      const second = Math.floor(call.ts / 1000);
      const slot = this.#perSecond.get(second) ?? { calls: 0, errors: 0 };
      slot.calls++;
      if (call.status !== 'ok') {
        slot.errors++;
        const key = call.errorCode === null ? call.status : String(call.errorCode);
        const seen = this.errors.get(key);
        this.errors.set(key, { count: (seen?.count ?? 0) + 1, sample: call });
      }
      this.#perSecond.set(second, slot);
      const bucket = Math.floor(call.ts / LATENCY_BUCKET_MS);
      const list = this.#latencies.get(bucket) ?? [];
      list.push(latencyMsOf(call));
      this.#latencies.set(bucket, list);
    }
    this.calls = [...arrived, ...this.calls].slice(0, KEEP_CALLS);
    this.#prune();
    this.tick++;
  }

  #prune(): void {
    const now = Date.now();
    const oldestSecond = Math.floor(now / 1000) - SECONDS;
    for (const second of this.#perSecond.keys()) {
      if (second < oldestSecond) this.#perSecond.delete(second);
    }
    const oldestBucket = Math.floor(now / LATENCY_BUCKET_MS) - LATENCY_BUCKETS;
    for (const bucket of this.#latencies.keys()) {
      if (bucket < oldestBucket) this.#latencies.delete(bucket);
    }
  }

  /** [seconds, calls, errors] for the last two minutes, one point a second. */
  throughput(): [number[], number[], number[]] {
    const now = Math.floor(Date.now() / 1000);
    const xs: number[] = [];
    const calls: number[] = [];
    const errors: number[] = [];
    for (let second = now - SECONDS + 1; second <= now; second++) {
      const slot = this.#perSecond.get(second);
      xs.push(second);
      calls.push(slot?.calls ?? 0);
      errors.push(slot?.errors ?? 0);
    }
    return [xs, calls, errors];
  }

  /** Calls per second and the share of errors over the last 10 s. */
  rates(): { perSecond: number; errorRate: number } {
    const now = Math.floor(Date.now() / 1000);
    let calls = 0;
    let errors = 0;
    for (let second = now - 10; second < now; second++) {
      const slot = this.#perSecond.get(second);
      calls += slot?.calls ?? 0;
      errors += slot?.errors ?? 0;
    }
    return { perSecond: calls / 10, errorRate: calls === 0 ? 0 : errors / calls };
  }

  /** [seconds, p50, p99] per 10 s for the last ten minutes (null where there were no calls). */
  latency(): [number[], (number | null)[], (number | null)[]] {
    const now = Math.floor(Date.now() / LATENCY_BUCKET_MS);
    const xs: number[] = [];
    const p50: (number | null)[] = [];
    const p99: (number | null)[] = [];
    for (let bucket = now - LATENCY_BUCKETS + 1; bucket <= now; bucket++) {
      const sorted = [...(this.#latencies.get(bucket) ?? [])].sort((a, b) => a - b);
      xs.push((bucket * LATENCY_BUCKET_MS) / 1000);
      p50.push(percentile(sorted, 0.5));
      p99.push(percentile(sorted, 0.99));
    }
    return [xs, p50, p99];
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
}

export const live = new LiveFeed();
