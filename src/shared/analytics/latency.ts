/**
 * Latency histograms of the analytics rollups, on hdr-histogram-js (boundaries.json): the
 * bucket layout, the recording and the percentiles are the library's. Values are µs with 1
 * significant digit (16 buckets per doubling) and a percentile is reported as its bucket's
 * middle, so it is within 1/32 (3.2%) of the true value
 * (docs/architecture.md#analytics-rollups).
 *
 * What is stored is the histogram's own counts array, trimmed to its non-zero span, rather
 * than the library's compressed encoding: measured on this machine, decoding one compressed
 * histogram takes ~80 µs and adding it ~18 µs, so a week of hourly cells (thousands of them)
 * would take seconds; adding a trimmed array into a sum takes ~1 µs.
 */
// The two histogram classes by their own files: the package's index also loads its
// WebAssembly build (the binary as base64 text, and an inflater for it), which costs ~5 MiB of
// resident memory in every thread that imports it and is not used here
// (docs/architecture.md#memory). The files are CommonJS: their class is `default`.
import int32Histogram from 'hdr-histogram-js/dist/Int32Histogram.js';
import float64Histogram from 'hdr-histogram-js/dist/Float64Histogram.js';

const Int32Histogram = int32Histogram.default;
const Float64Histogram = float64Histogram.default;

/** Bump when the layout below changes: stored counts are indexed by it. */
export const LATENCY_LAYOUT_VERSION = 1;
const LOWEST_US = 1;
/**
 * 2 digits (128 buckets per doubling) made a cell's counts ~1,500 numbers for calls from
 * 0.2 ms to 1 s, and a week's query ~200 ms; 1 digit makes them ~5 times fewer.
 */
const SIGNIFICANT_DIGITS = 1;
/** A call slower than an hour is recorded as an hour: it is an outage, not a latency. */
const HIGHEST_US = 3_600_000_000;
/** The relative error of a reported percentile: half a bucket of 1/16 of a doubling. */
export const LATENCY_RELATIVE_ERROR = 1 / 32;

/** [index of the first non-zero count, the counts from there to the last non-zero one]. */
export type StoredLatency = [first: number, counts: number[]];

function layoutHistogram(): InstanceType<typeof Int32Histogram> {
  // Starts small and grows to the largest value recorded (autoResize).
  const h = new Int32Histogram(LOWEST_US, 2, SIGNIFICANT_DIGITS);
  h.autoResize = true;
  return h;
}

/** Index → value arithmetic only; never recorded into. */
const LAYOUT = layoutHistogram();

function clampUs(us: number): number {
  if (!(us >= LOWEST_US)) return LOWEST_US;
  return us > HIGHEST_US ? HIGHEST_US : Math.round(us);
}

/** The latencies of one rollup cell, as recorded by the writer. */
export class LatencyRecorder {
  private readonly histogram = layoutHistogram();

  record(us: number): void {
    this.histogram.recordValue(clampUs(us));
  }

  stored(): StoredLatency {
    const h = this.histogram;
    let first = -1;
    let last = -1;
    for (let i = 0; i < h.countsArrayLength; i++) {
      if (h.getCountAtIndex(i) === 0) continue;
      if (first < 0) first = i;
      last = i;
    }
    if (first < 0) return [0, []];
    const counts = new Array<number>(last - first + 1);
    for (let i = first; i <= last; i++) counts[i - first] = h.getCountAtIndex(i);
    return [first, counts];
  }
}

/** Whether a stored value has the shape of StoredLatency (it comes from disk). */
function isStoredLatency(value: unknown): value is StoredLatency {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isInteger(value[0]) &&
    (value[0] as number) >= 0 &&
    Array.isArray(value[1])
  );
}

/** The sum of stored latencies, for a query: percentiles come from an hdr histogram. */
export class LatencySum {
  private counts = new Float64Array(64);
  private end = 0;

  add(stored: unknown): void {
    if (!isStoredLatency(stored)) return;
    const [first, counts] = stored;
    const end = first + counts.length;
    if (end > this.counts.length) {
      const grown = new Float64Array(Math.max(end, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i];
      if (typeof c === 'number' && c > 0)
        this.counts[first + i] = (this.counts[first + i] ?? 0) + c;
    }
    if (end > this.end) this.end = end;
  }

  merge(other: LatencySum): void {
    if (other.end > this.counts.length) {
      const grown = new Float64Array(Math.max(other.end, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    for (let i = 0; i < other.end; i++) {
      this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    }
    if (other.end > this.end) this.end = other.end;
  }

  /** Percentiles (q in 0..100) in µs: hdr's percentile, reported as its bucket's middle. */
  percentiles(qs: readonly number[]): number[] {
    const h = new Float64Histogram(LOWEST_US, 2, SIGNIFICANT_DIGITS);
    h.autoResize = true;
    for (let i = 0; i < this.end; i++) {
      const c = this.counts[i] ?? 0;
      if (c > 0) h.recordValueWithCount(LAYOUT.valueFromIndex(i), c);
    }
    if (h.totalCount === 0) return qs.map(() => 0);
    return qs.map((q) => h.medianEquivalentValue(h.getValueAtPercentile(q)));
  }
}
