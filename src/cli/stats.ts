/**
 * `mcp-director stats`: what the calls did, as aligned tables (or `--json`): from the running
 * daemon's `/api/stats`, or, when no daemon answers, straight from the analytics store in
 * the data folder (the daemon need not run to look back).
 */
import type { CommandModule } from './command-line.js';
import {
  DaemonUnreachable,
  daemonOptions,
  fail,
  fetchApi,
  printJson,
  printTable,
  type DaemonArgs,
} from './inspect.js';
import { defaultDataDir } from '../shared/config/defaults.js';
import type { StatsReport, CallSummary } from '../shared/analytics/stats.js';

const GROUPINGS = ['tool', 'server', 'client', 'profile'] as const;
type Grouping = (typeof GROUPINGS)[number];

interface StatsArgs extends DaemonArgs {
  since: string;
  until: string | undefined;
  server: string | undefined;
  tool: string | undefined;
  by: Grouping;
  'data-dir': string | undefined;
}

const UNITS = new Map([
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
]);

/** `90s`, `15m`, `1h`, `7d` back from now, or a date (ISO) or ms since the epoch. */
export function parseWhen(text: string, now = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (relative !== null) return now - Number(relative[1]) * UNITS.get(relative[2]!)!;
  const value = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(value)) {
    throw new RangeError(`'${text}' is neither a duration (30s, 15m, 1h, 7d) nor a date`);
  }
  return value;
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: 'stats',
  describe: 'Calls, errors and latency per tool, server, client or profile',
  builder: (y) =>
    daemonOptions(y)
      .option('since', {
        type: 'string',
        default: '24h',
        describe: 'From: 15m, 1h, 7d, … or a date',
      })
      .option('until', { type: 'string', describe: 'Until: a duration back from now, or a date' })
      .option('server', { type: 'string', describe: 'Only this server' })
      .option('tool', { type: 'string', describe: 'Only this tool (its name on the backend)' })
      .option('by', { choices: GROUPINGS, default: 'tool' as Grouping, describe: 'One row per' })
      .option('data-dir', {
        type: 'string',
        describe: 'Read this data folder when no daemon answers (default: the default data folder)',
      }),
  handler: async (argv) => {
    let sinceMs: number;
    let untilMs: number | undefined;
    try {
      sinceMs = parseWhen(argv.since);
      untilMs = argv.until === undefined ? undefined : parseWhen(argv.until);
    } catch (error) {
      process.stderr.write(`mcp-director stats: ${(error as Error).message}\n`);
      process.exit(2);
    }
    const query = new URLSearchParams({ since: String(sinceMs) });
    if (untilMs !== undefined) query.set('until', String(untilMs));
    if (argv.server !== undefined) query.set('server', argv.server);
    if (argv.tool !== undefined) query.set('tool', argv.tool);
    let report: StatsReport;
    try {
      report = (await fetchApi(argv, `/api/stats?${query.toString()}`)) as StatsReport;
    } catch (error) {
      if (!(error instanceof DaemonUnreachable)) fail((error as Error).message);
      report = await readDataFolder(argv, sinceMs, untilMs);
    }
    if (argv.json) return printJson(report);
    printReport(report, argv.by);
  },
};

/** The report from the analytics store itself (lmdb is loaded only for this). */
async function readDataFolder(
  argv: StatsArgs,
  sinceMs: number,
  untilMs: number | undefined,
): Promise<StatsReport> {
  const { existsSync } = await import('node:fs');
  const dir = `${argv['data-dir'] ?? defaultDataDir(process.env)}/analytics`;
  if (!existsSync(dir)) fail(`no daemon answers at ${argv.url}, and ${dir} holds no analytics`);
  const { openAnalyticsStore } = await import('../shared/analytics/store.js');
  const store = openAnalyticsStore(dir, { writerId: 'stats-cli' });
  try {
    return store.stats({
      sinceMs,
      ...(untilMs !== undefined && { untilMs }),
      ...(argv.server !== undefined && { server: argv.server }),
      ...(argv.tool !== undefined && { tool: argv.tool }),
    });
  } finally {
    await store.close();
  }
}

const ms = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;

function summaryCells(s: CallSummary): string[] {
  return [
    String(s.calls),
    String(s.errors),
    String(s.timeouts),
    ms(s.p50Ms),
    ms(s.p90Ms),
    ms(s.p99Ms),
    ms(s.maxMs),
  ];
}

const FIGURES = ['CALLS', 'ERRORS', 'TIMEOUTS', 'P50', 'P90', 'P99', 'MAX'];

function printReport(report: StatsReport, by: Grouping): void {
  const window =
    report.from === null
      ? 'no calls recorded in this window'
      : `${new Date(report.from).toISOString()} – ${new Date(report.until ?? Date.now()).toISOString()}`;
  process.stdout.write(`${window}\n`);
  switch (by) {
    case 'tool':
      printTable(
        ['SERVER', 'TOOL', 'METHOD', ...FIGURES],
        report.servers.flatMap((server) =>
          server.tools.map((tool) => [
            server.server,
            tool.tool,
            tool.method,
            ...summaryCells(tool),
          ]),
        ),
      );
      return;
    case 'server':
      printTable(
        ['SERVER', ...FIGURES],
        report.servers.map((server) => [server.server, ...summaryCells(server)]),
      );
      return;
    case 'client':
      printTable(
        ['CLIENT', 'CALLS', 'ERRORS'],
        report.clients.map((c) => [c.client || '(unnamed)', String(c.calls), String(c.errors)]),
      );
      return;
    case 'profile':
      printTable(
        ['PROFILE', 'CALLS', 'ERRORS'],
        report.profiles.map((p) => [p.profile, String(p.calls), String(p.errors)]),
      );
      return;
  }
}
