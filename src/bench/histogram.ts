/**
 * The one module that touches hdr-histogram-js (boundaries.json): latency histograms in
 * microseconds with 3 significant digits (0.1% error), recorded in the driver threads,
 * carried to the main thread as compressed text once a second, and merged there.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Latencies above a minute are clamped to it: a call that slow is an outage, not a figure. */
const HIGHEST_US = 60_000_000;

export function createHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

export function recordMicroseconds(histogram: Histogram, us: number): void {
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
}

/** Compact text for a thread message. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(text: string): Histogram {
  return hdr.decodeFromCompressedBase64(text);
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    mean: histogram.mean,
  };
}

/**
 * The latency distribution as (percentile, µs) points on a log scale of "nines" (50, 90,
 * 99, 99.9, …): what the report's percentile plot draws.
 */
export function percentileCurve(histogram: Histogram): { percentile: number; us: number }[] {
  if (histogram.totalCount === 0) return [];
  const points: { percentile: number; us: number }[] = [];
  for (let nines = 0; nines <= 5; nines += 0.05) {
    const percentile = 100 * (1 - 10 ** -nines);
    points.push({ percentile, us: histogram.getValueAtPercentile(percentile) });
  }
  points.push({ percentile: 100, us: histogram.maxValue });
  return points;
}
