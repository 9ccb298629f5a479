/**
 * What `mcp-director bench` does once its flags are parsed (src/cli/bench.ts declares them):
 * measure one target or compare several, print the setup and the results (or JSON), write
 * the HTML report, and answer the exit code: 1 when a target failed.
 */
import { writeFileSync } from 'node:fs';
import { formatTable } from '../shared/text-table.js';
import { compareTargets } from './compare.js';
import type { Comparison } from './compare.js';
import { measure } from './measure.js';
import type { BenchResult } from './measure.js';
import { checkLoadOptions } from './options.js';
import type { Engine, LoadOptions, WorkloadKind } from './options.js';
import { startProgress } from './progress.js';
import { renderReport } from './report.js';
import { COLUMN_NOTES, describeSetup, formatProblems, formatResults } from './results.js';
import { parseTargets } from './targets.js';

/** The command's flags, as the command line parsed them. */
export interface BenchRequest {
  targets: readonly string[];
  compare: boolean;
  workload: string;
  tool: string[];
  args: string;
  connections: number;
  sessions: number;
  threads: number;
  pipelining: number;
  engine: string;
  duration: number;
  warmup: number;
  calls: number;
  rate: number;
  timeout: number;
  rounds: number | undefined;
  path: string;
  json: boolean;
  report: string | undefined;
  quiet: boolean;
}

/** Runs the benchmark; resolves to the exit code. */
export async function runBench(request: BenchRequest): Promise<number> {
  const targets = parseTargets(request.targets, request.path);
  let args: unknown;
  try {
    args = JSON.parse(request.args) as unknown;
  } catch {
    throw new RangeError(`--args is not JSON: ${request.args}`);
  }
  const options: LoadOptions = {
    workload: { kind: request.workload as WorkloadKind, tools: request.tool, args },
    sessions: request.sessions,
    connections: request.connections,
    threads: request.threads,
    pipelining: request.pipelining,
    engine: request.engine as Engine,
    durationS: request.duration,
    warmupS: request.warmup,
    calls: request.calls,
    rate: request.rate,
    requestTimeoutMs: request.timeout,
  };
  checkLoadOptions(options);
  const comparing = request.compare || targets.length > 1;
  if (request.compare && targets.length < 2)
    throw new RangeError('--compare needs two or more targets');
  const rounds = request.rounds ?? (comparing ? 3 : 1);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError('--rounds must be a positive integer');
  const progress = request.quiet ? undefined : startProgress;
  const setup = describeSetup(options);
  if (!request.json) process.stdout.write(`${setup}\n\n`);

  let results: BenchResult[];
  let comparison: Comparison | undefined;
  if (comparing || rounds > 1) {
    comparison = await compareTargets(targets, options, rounds, progress);
    results = comparison.medians.map((m, t) => m ?? comparison!.rounds[0]![t]!);
  } else {
    results = [await measure(targets[0]!, options, progress)];
  }

  if (request.json) {
    process.stdout.write(`${JSON.stringify({ setup, results, comparison }, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatResults(results)}\n`);
    if (comparison !== undefined && targets.length > 1)
      process.stdout.write(`\n${formatRatios(comparison)}\n`);
    const problems = formatProblems(comparison?.rounds.flat() ?? results);
    if (problems !== '') process.stdout.write(`\n${problems}\n`);
    process.stdout.write(`\n${COLUMN_NOTES}\n`);
  }
  if (request.report !== undefined) {
    const ratios = comparison !== undefined && targets.length > 1 ? comparison : undefined;
    writeFileSync(
      request.report,
      renderReport({ title: 'mcp-director bench', setup, results, ...(ratios && { ratios }) }),
    );
    if (!request.json) process.stdout.write(`report: ${request.report}\n`);
  }
  const failed = (comparison?.rounds.flat() ?? results).some((r) => r.failure !== undefined);
  return failed ? 1 : 0;
}

function formatRatios(comparison: Comparison): string {
  const rounds = comparison.rounds.length;
  const header = [
    'calls/s ÷ ' + comparison.targets[0],
    ...Array.from({ length: rounds }, (_, r) => `round ${r + 1}`),
    'median',
  ];
  const ratio = (x: number): string => (Number.isNaN(x) ? '-' : `${x.toFixed(2)}×`);
  return formatTable(
    header,
    comparison.targets.map((name, t) => [
      name,
      ...comparison.ratios[t]!.map(ratio),
      ratio(comparison.medianRatios[t]!),
    ]),
    'l' + 'r'.repeat(rounds + 1),
  );
}
