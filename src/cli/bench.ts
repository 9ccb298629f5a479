/**
 * `mcp-director bench`: load for any MCP server or gateway — a URL, an HTTP server command
 * with `{port}`, or a stdio command. This module declares the flags; the benchmark itself
 * (src/bench/command.ts) is loaded only when the command runs, so it costs the other
 * commands nothing at start-up. docs/benchmark.md explains the method and every figure.
 */
import type { Argv, CommandModule } from './command-line.js';
import { ENGINES, WORKLOADS, defaultLoadOptions } from '../bench/options.js';
import type { BenchRequest } from '../bench/command.js';

type BenchArgs = Omit<BenchRequest, 'targets'> & { targets: string[] };

const d = defaultLoadOptions;

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <targets..>',
  describe: 'Measure an MCP server or gateway (a URL, or a command it starts); compare several',
  builder: (y: Argv) =>
    y
      .positional('targets', {
        type: 'string',
        array: true,
        demandOption: true,
        describe:
          "http(s)://… URL, a command with {port} (an HTTP server it starts), or a stdio server command; 'name=' labels one",
      })
      .option('compare', {
        type: 'boolean',
        default: false,
        describe:
          'Compare the targets (implied by two or more): rounds interleaved, medians and ratios',
      })
      .option('workload', {
        type: 'string',
        choices: [...WORKLOADS],
        default: 'call',
        describe:
          'call: tools/call; list: tools/list; mixed: 8 calls, 1 list, 1 ping in 10; connect: a new session with every tools/list page',
      })
      .option('tool', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Tool to call (repeat to rotate over several; default: the first listed)',
      })
      .option('args', { type: 'string', default: '{}', describe: 'Arguments of every call (JSON)' })
      .option('connections', {
        type: 'number',
        default: d.connections,
        describe: 'Connections (HTTP) or calls in flight (stdio)',
      })
      .option('sessions', {
        type: 'number',
        default: 0,
        describe: 'MCP sessions, connections spread over them (default: one per thread)',
      })
      .option('threads', { type: 'number', default: d.threads, describe: 'Driver threads (HTTP)' })
      .option('pipelining', {
        type: 'number',
        default: d.pipelining,
        describe: 'Requests in flight per connection (HTTP)',
      })
      .option('engine', {
        type: 'string',
        choices: [...ENGINES],
        default: d.engine,
        describe: 'HTTP client',
      })
      .option('duration', { type: 'number', default: d.durationS, describe: 'Measured seconds' })
      .option('warmup', {
        type: 'number',
        default: d.warmupS,
        describe: 'Seconds of load before measuring',
      })
      .option('calls', {
        type: 'number',
        default: 0,
        describe: 'Stop after this many measured calls instead',
      })
      .option('rate', {
        type: 'number',
        default: 0,
        describe: 'Open loop: start this many calls per second (latency at a fixed rate)',
      })
      .option('timeout', {
        type: 'number',
        default: d.requestTimeoutMs,
        describe: 'A call unanswered after this many ms is an error',
      })
      .option('rounds', {
        type: 'number',
        describe: 'Rounds per target (default 1; 3 when comparing)',
      })
      .option('path', {
        type: 'string',
        default: '/mcp',
        describe: 'The MCP path of a {port} command',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON' })
      .option('report', {
        type: 'string',
        describe: 'Write a self-contained HTML report with plots here',
      })
      .option('quiet', {
        type: 'boolean',
        default: false,
        describe: 'No progress line',
      }) as Argv<BenchArgs>,
  handler: async (argv) => {
    const { runBench } = await import('../bench/command.js');
    try {
      process.exitCode = await runBench(argv);
    } catch (error) {
      // A flag out of range: one line, like yargs' own usage errors.
      if (!(error instanceof RangeError)) throw error;
      process.stderr.write(`mcp-director bench: ${error.message}\n`);
      process.exitCode = 2;
    }
  },
};
