/** The benchmark's text output: the setup line, the results table and the error breakdown. */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { formatTable } from '../shared/text-table.js';
import type { BenchResult } from './measure.js';
import type { LoadOptions } from './options.js';

export function formatMicroseconds(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(2)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${Math.round(us)} µs`;
}

/** The machine and the settings, so a figure can be read (and repeated) later. */
export function describeSetup(options: LoadOptions): string {
  const w = options.workload;
  const what =
    w.kind === 'connect'
      ? 'connect (initialize, initialized, every tools/list page, DELETE)'
      : w.kind === 'list'
        ? 'tools/list'
        : `${w.kind === 'mixed' ? 'mixed: ' : ''}tools/call ${w.tools.join(', ') || '(first listed tool)'}`;
  const load =
    options.rate > 0
      ? `open loop at ${options.rate} calls/s`
      : `closed loop, ${options.connections} connections × ${options.pipelining} in flight`;
  const length = options.calls > 0 ? `${options.calls} calls` : `${options.durationS} s`;
  return [
    `machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${availableParallelism()} CPUs, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, node ${process.version}`,
    `workload: ${what}; ${load}; ${options.threads} driver threads (${options.engine}); ` +
      `warm-up ${options.warmupS} s, then ${length}`,
  ].join('\n');
}

export const RESULT_COLUMNS = [
  'target',
  'calls/s',
  'p50',
  'p90',
  'p99',
  'p99.9',
  'max',
  'errors',
  'cpu/call',
  '+children',
  'rss MiB',
] as const;

/** One row of the results table (a failed target shows `failed`). */
export function resultRow(result: BenchResult, label = result.target.name): string[] {
  if (result.failure !== undefined)
    return [label, 'failed', ...RESULT_COLUMNS.slice(2).map(() => '-')];
  const l = result.latencyUs;
  const p = result.process;
  return [
    label,
    Math.round(result.callsPerSecond).toLocaleString('en-US'),
    formatMicroseconds(l.p50),
    formatMicroseconds(l.p90),
    formatMicroseconds(l.p99),
    formatMicroseconds(l.p999),
    formatMicroseconds(l.max),
    String(result.errors + result.abandoned),
    p === undefined ? '-' : `${p.cpuUsPerCall.own.toFixed(1)} µs`,
    p === undefined || p.childCount === 0 ? '-' : `${p.cpuUsPerCall.children.toFixed(1)} µs`,
    p === undefined
      ? '-'
      : p.childCount === 0
        ? p.rssMiB.own.toFixed(0)
        : `${p.rssMiB.own.toFixed(0)}+${p.rssMiB.children.toFixed(0)}`,
  ];
}

export function formatResults(results: BenchResult[]): string {
  return formatTable(
    [...RESULT_COLUMNS],
    results.map((r) => resultRow(r)),
    'lrrrrrrrrrr',
  );
}

/** Errors by kind and failures, one line each; '' when there are none. */
export function formatProblems(results: BenchResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    if (result.failure !== undefined) {
      lines.push(`${result.target.name} failed: ${result.failure}`);
      continue;
    }
    for (const [kind, count] of Object.entries(result.errorKinds)) {
      lines.push(`${result.target.name}: ${count} × ${kind}`);
    }
    if (result.abandoned > 0) {
      lines.push(`${result.target.name}: ${result.abandoned} calls unanswered at the end`);
    }
  }
  return lines.join('\n');
}

export const COLUMN_NOTES =
  'cpu/call: CPU time of the target process per answered call in the window; +children: of ' +
  'its child processes (backends); rss MiB: the process (+ its children) at the end';
