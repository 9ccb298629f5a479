/**
 * Counting calls into one-second ticks. A driver (an HTTP load thread, or the stdio driver)
 * records every finished call in a `TickRecorder`, which hands out a `Tick` per second;
 * the main thread merges the ticks of all drivers in a `RunTally`: the whole measured
 * window's histogram and counts, and the per-second series the progress line and the
 * report draw.
 */
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  recordMicroseconds,
  summarize,
} from './histogram.js';
import type { Histogram, LatencySummary } from './histogram.js';

/** One driver's calls of one second. */
export interface Tick {
  /** Whole seconds since the measured window began; negative during the warm-up. */
  second: number;
  ok: number;
  errors: number;
  /** Error reason → count, e.g. `HTTP 503`, `JSON-RPC error -32603`, `timeout`. */
  errorKinds: Record<string, number>;
  /** Latencies of the ok calls (hdr-histogram-js compressed text); '' when none. */
  histogram: string;
}

/** Records finished calls of one driver, and emits a tick each time a second is complete. */
export class TickRecorder {
  #second: number;
  #ok = 0;
  #errors = 0;
  #errorKinds = new Map<string, number>();
  readonly #histogram = createHistogram();
  /** Calls finished inside the measured window. */
  measured = 0;

  /**
   * @param measureFrom `performance.now()` at which the warm-up ends.
   * @param emit receives each complete second's tick.
   */
  constructor(
    readonly measureFrom: number,
    private readonly emit: (tick: Tick) => void,
  ) {
    this.#second = this.secondAt(performance.now());
  }

  secondAt(now: number): number {
    return Math.floor((now - this.measureFrom) / 1000);
  }

  /** One call ended at `now`: ok when `failure` is null. */
  record(now: number, latencyMs: number, failure: string | null): void {
    const second = this.secondAt(now);
    if (second !== this.#second) this.flush(second);
    if (second >= 0) this.measured += 1;
    if (failure === null) {
      this.#ok += 1;
      recordMicroseconds(this.#histogram, latencyMs * 1000);
    } else {
      this.#errors += 1;
      this.#errorKinds.set(failure, (this.#errorKinds.get(failure) ?? 0) + 1);
    }
  }

  /** Emits the current second (if anything happened in it) and starts `next`. */
  flush(next = this.secondAt(performance.now())): void {
    if (this.#ok + this.#errors > 0) {
      this.emit({
        second: this.#second,
        ok: this.#ok,
        errors: this.#errors,
        errorKinds: Object.fromEntries(this.#errorKinds),
        histogram: this.#ok > 0 ? encodeHistogram(this.#histogram) : '',
      });
    }
    this.#second = next;
    this.#ok = 0;
    this.#errors = 0;
    this.#errorKinds = new Map();
    this.#histogram.reset();
  }
}

/** One second of the whole run, all drivers merged. */
export interface SecondPoint {
  second: number;
  ok: number;
  errors: number;
  p50Us: number;
  p99Us: number;
}

/** All drivers' ticks of one run, merged on the main thread. */
export class RunTally {
  readonly histogram = createHistogram();
  ok = 0;
  errors = 0;
  readonly errorKinds = new Map<string, number>();
  /** Seconds with every tick merged so far, in order of arrival. */
  readonly #seconds = new Map<number, { ok: number; errors: number; histogram: Histogram }>();
  /** The newest second any driver reported. */
  #newest = -Infinity;

  add(tick: Tick): void {
    let point = this.#seconds.get(tick.second);
    if (point === undefined) {
      point = { ok: 0, errors: 0, histogram: createHistogram() };
      this.#seconds.set(tick.second, point);
    }
    point.ok += tick.ok;
    point.errors += tick.errors;
    if (tick.histogram !== '') {
      const latencies = decodeHistogram(tick.histogram);
      point.histogram.add(latencies);
      if (tick.second >= 0) this.histogram.add(latencies);
    }
    if (tick.second >= 0) {
      this.ok += tick.ok;
      this.errors += tick.errors;
      for (const [kind, count] of Object.entries(tick.errorKinds)) {
        this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + count);
      }
    }
    if (tick.second > this.#newest) this.#newest = tick.second;
  }

  /**
   * The newest second all drivers are done with, for the progress line. Each driver reports a
   * second once it has finished a call in a later one, so the newest second reported is still
   * partial (other threads' ticks for it are on their way); the one before it is whole.
   */
  get latestComplete(): { second: number; ok: number; errors: number } | undefined {
    const second = this.#newest - 1;
    const point = this.#seconds.get(second);
    return point === undefined ? undefined : { second, ok: point.ok, errors: point.errors };
  }

  latency(): LatencySummary {
    return summarize(this.histogram);
  }

  /** The per-second series, warm-up included (negative seconds). */
  series(): SecondPoint[] {
    return [...this.#seconds.entries()]
      .sort(([a], [b]) => a - b)
      .map(([second, point]) => ({
        second,
        ok: point.ok,
        errors: point.errors,
        p50Us: point.ok > 0 ? point.histogram.getValueAtPercentile(50) : 0,
        p99Us: point.ok > 0 ? point.histogram.getValueAtPercentile(99) : 0,
      }));
  }
}
