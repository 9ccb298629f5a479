/**
 * Several targets in one run: rounds interleaved (A B, then B A, …) so that a machine that
 * warms up, throttles or is shared drifts the same way for all of them; per target the
 * median round; per round each target's rate as a ratio of the first target's.
 */
import { measure } from './measure.js';
import type { BenchResult } from './measure.js';
import type { LoadOptions } from './options.js';
import type { Progress } from './progress.js';
import type { Target } from './targets.js';

export interface Comparison {
  targets: string[];
  /** rounds[r][t]: target t's result in round r. */
  rounds: BenchResult[][];
  /** Per target, its round with the median calls/s (failed rounds left out). */
  medians: (BenchResult | undefined)[];
  /** ratios[t][r]: target t's calls/s over the first target's in round r (NaN if one failed). */
  ratios: number[][];
  /** Per target, the median of its per-round ratios. */
  medianRatios: number[];
}

export async function compareTargets(
  targets: Target[],
  options: LoadOptions,
  rounds: number,
  progress?: (label: string, totalS: number) => Progress,
  onResult?: (result: BenchResult, round: number) => void,
): Promise<Comparison> {
  const table: BenchResult[][] = [];
  for (let round = 0; round < rounds; round++) {
    const row: BenchResult[] = new Array<BenchResult>(targets.length);
    const order = targets.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const index of order) {
      const label = rounds > 1 ? `round ${round + 1}/${rounds} ${targets[index]!.name}` : undefined;
      const result = await measure(
        targets[index]!,
        options,
        progress && ((name, totalS) => progress(label ?? name, totalS)),
      );
      row[index] = result;
      onResult?.(result, round);
    }
    table.push(row);
  }
  const ratios = targets.map((_, t) =>
    table.map((row) => {
      const base = row[0]!;
      const mine = row[t]!;
      return base.failure === undefined && mine.failure === undefined && base.callsPerSecond > 0
        ? mine.callsPerSecond / base.callsPerSecond
        : Number.NaN;
    }),
  );
  return {
    targets: targets.map((t) => t.name),
    rounds: table,
    medians: targets.map((_, t) => medianResult(table.map((row) => row[t]!))),
    ratios,
    medianRatios: ratios.map((r) => median(r.filter((x) => !Number.isNaN(x)))),
  };
}

function medianResult(results: BenchResult[]): BenchResult | undefined {
  const ok = results
    .filter((r) => r.failure === undefined)
    .sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  return ok[Math.floor((ok.length - 1) / 2)];
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
