/**
 * A fixed-size log-linear latency histogram in microseconds (HDR-style): exact below 128 µs,
 * then 64 sub-buckets per power of two, so every recorded value is kept within 1.6% and
 * memory stays at ~13 KiB however long a run lasts. Counts are a plain Float64Array so a
 * worker thread can post them and the main thread can merge them.
 */

const LINEAR_LIMIT = 128;
const SUB_BUCKETS = 64;
/** Values are clamped below 2^31 µs (≈ 36 minutes): far above any timeout used here. */
const MAX_VALUE = 2 ** 31 - 1;
const BUCKET_COUNT = LINEAR_LIMIT + (31 - 7) * SUB_BUCKETS;

export interface HistogramData {
  counts: Float64Array;
  total: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKET_COUNT);
  total = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;

  record(microseconds: number): void {
    const value = Math.min(MAX_VALUE, Math.max(0, Math.round(microseconds)));
    this.counts[indexOf(value)]! += 1;
    this.total += 1;
    this.sumUs += value;
    if (value < this.minUs) this.minUs = value;
    if (value > this.maxUs) this.maxUs = value;
  }

  merge(other: HistogramData): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i]! += other.counts[i] ?? 0;
    this.total += other.total;
    this.sumUs += other.sumUs;
    this.minUs = Math.min(this.minUs, other.minUs);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumUs = 0;
    this.minUs = Infinity;
    this.maxUs = 0;
  }

  /** The value at percentile `p` (0–100), as the middle of its bucket, clamped to min/max. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        const [low, width] = bucketBounds(i);
        return Math.min(this.maxUs, Math.max(this.minUs, low + (width - 1) / 2));
      }
    }
    return this.maxUs;
  }

  mean(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total;
  }

  toData(): HistogramData {
    return {
      counts: this.counts,
      total: this.total,
      sumUs: this.sumUs,
      minUs: this.minUs,
      maxUs: this.maxUs,
    };
  }
}

function indexOf(value: number): number {
  if (value < LINEAR_LIMIT) return value;
  const exponent = 31 - Math.clz32(value); // ≥ 7
  const shift = exponent - 6;
  const sub = value >>> shift; // 64…127
  return LINEAR_LIMIT + (exponent - 7) * SUB_BUCKETS + (sub - SUB_BUCKETS);
}

/** [lowest value, number of values] of bucket `index`. */
function bucketBounds(index: number): [number, number] {
  if (index < LINEAR_LIMIT) return [index, 1];
  const offset = index - LINEAR_LIMIT;
  const exponent = Math.floor(offset / SUB_BUCKETS) + 7;
  const sub = (offset % SUB_BUCKETS) + SUB_BUCKETS;
  const shift = exponent - 6;
  return [sub * 2 ** shift, 2 ** shift];
}
