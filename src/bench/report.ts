/**
 * `--report out.html`: one self-contained file (no network, no CDN) with the results, the
 * setup, and three plots drawn by uPlot (boundaries.json), whose script and stylesheet are
 * inlined from the installed package: calls per second over time, p50/p99 over time, and
 * latency by percentile.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BenchResult } from './measure.js';
import { RESULT_COLUMNS, resultRow } from './results.js';

const require = createRequire(import.meta.url);

export interface ReportInput {
  title: string;
  setup: string;
  /** One result per target: the median round when several ran. */
  results: BenchResult[];
  /** Per-round calls/s ratios to the first target, when targets were compared. */
  ratios?: { targets: string[]; ratios: number[][]; medianRatios: number[] };
}

/** One chart: x values shared by every series (uPlot's aligned data), null where absent. */
interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  logY: boolean;
  /** x is "nines" of a percentile (0 = p0, 1 = p90, 2 = p99, …). */
  nines: boolean;
  series: string[];
  data: (number | null)[][];
}

function chart(
  title: string,
  xLabel: string,
  yLabel: string,
  lines: { name: string; points: [number, number][] }[],
  options: { logY?: boolean; nines?: boolean } = {},
): Chart {
  const xs = [...new Set(lines.flatMap((l) => l.points.map(([x]) => x)))].sort((a, b) => a - b);
  const data: (number | null)[][] = [xs];
  for (const line of lines) {
    const byX = new Map(line.points);
    data.push(xs.map((x) => byX.get(x) ?? null));
  }
  return {
    title,
    xLabel,
    yLabel,
    logY: options.logY ?? false,
    nines: options.nines ?? false,
    series: lines.map((l) => l.name),
    data,
  };
}

export function renderReport(input: ReportInput): string {
  const measured = input.results.filter((r) => r.failure === undefined);
  const charts: Chart[] = [
    chart(
      'Calls per second (negative seconds: warm-up)',
      'second',
      'calls/s',
      measured.map((r) => ({ name: r.target.name, points: r.series.map((p) => [p.second, p.ok]) })),
    ),
    chart(
      'Latency over time: p50 (solid) and p99 (dashed)',
      'second',
      'µs',
      measured.flatMap((r) => [
        {
          name: `${r.target.name} p50`,
          points: r.series.filter((p) => p.ok > 0).map((p) => [p.second, p.p50Us]),
        },
        {
          name: `${r.target.name} p99`,
          points: r.series.filter((p) => p.ok > 0).map((p) => [p.second, p.p99Us]),
        },
      ]),
      { logY: true },
    ),
    chart(
      'Latency by percentile (measured window)',
      'percentile',
      'µs',
      measured.map((r) => ({
        name: r.target.name,
        points: r.percentiles
          .filter((p) => p.percentile < 100)
          .map((p) => [Math.round(-Math.log10(1 - p.percentile / 100) * 100) / 100, p.us]),
      })),
      { logY: true, nines: true },
    ),
  ];
  const rows = input.results.map((r) => resultRow(r));
  const table = htmlTable([...RESULT_COLUMNS], rows);
  const ratioTable =
    input.ratios === undefined
      ? ''
      : `<h2>Calls/s relative to ${escapeHtml(input.ratios.targets[0] ?? '')}, per round</h2>` +
        htmlTable(
          ['target', ...input.ratios.ratios[0]!.map((_, r) => `round ${r + 1}`), 'median'],
          input.ratios.targets.map((name, t) => [
            name,
            ...input.ratios!.ratios[t]!.map(formatRatio),
            formatRatio(input.ratios!.medianRatios[t]!),
          ]),
        );
  const failures = input.results
    .filter((r) => r.failure !== undefined)
    .map((r) => `<pre>${escapeHtml(`${r.target.name} failed: ${r.failure}`)}</pre>`)
    .join('');
  const script = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const style = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>${style}
body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}
td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}.chart{margin:24px 0}</style>
<script>${script.replaceAll('</script', '<\\/script')}</script></head>
<body><h1>${escapeHtml(input.title)}</h1><pre>${escapeHtml(input.setup)}</pre>
${table}${ratioTable}${failures}<div id="charts"></div>
<script id="bench-data" type="application/json">${jsonForScript(charts)}</script>
<script>
const charts = JSON.parse(document.getElementById('bench-data').textContent);
const colors = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];
const ninesLabel = (n) => n === 0 ? 'p0' : 'p' + String(+(100 - 100 / 10 ** n).toFixed(4));
for (const c of charts) {
  const div = document.createElement('div'); div.className = 'chart';
  document.getElementById('charts').appendChild(div);
  const perTarget = c.series.some((s) => / p(50|99)$/.test(s));
  const series = [{ label: c.xLabel, value: (u, v) => c.nines ? ninesLabel(v) : v }].concat(c.series.map((name, i) => ({
    label: name, spanGaps: true, width: 2,
    stroke: colors[(perTarget ? Math.floor(i / 2) : i) % colors.length],
    dash: perTarget && i % 2 === 1 ? [6, 4] : undefined,
  })));
  new uPlot({
    title: c.title, width: Math.min(1000, window.innerWidth - 60), height: 320,
    scales: { x: { time: false }, y: c.logY ? { distr: 3 } : {} },
    axes: [
      { label: c.xLabel, values: c.nines ? (u, ticks) => ticks.map(ninesLabel) : undefined },
      { label: c.yLabel, size: 70 },
    ],
    series,
  }, c.data, div);
}
</script></body></html>
`;
}

function formatRatio(ratio: number): string {
  return Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}×`;
}

function htmlTable(header: string[], rows: string[][]): string {
  const cells = (tag: string, row: string[]): string =>
    `<tr>${row.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table>${cells('th', header)}${rows.map((r) => cells('td', r)).join('')}</table>`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** JSON safe inside a <script> element: no `</script>` or `<!--` can end or bend it. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}
