/**
 * `mcp-director calls --follow`: the calls of the running daemon as they finish (and its
 * servers' state changes), one line each, from `/api/events`; `--json` prints each event as
 * one JSON line for scripts. Runs until interrupted or until the daemon goes away.
 */
import type { CommandModule } from './command-line.js';
import { daemonOptions, daemonUrl, fail, type DaemonArgs } from './inspect.js';
import { eventParser } from '../shared/event-stream.js';
import type { LiveCall } from '../shared/analytics/finished-calls.js';

interface CallsArgs extends DaemonArgs {
  follow: boolean;
  server: string | undefined;
}

export const callsCommand: CommandModule<object, CallsArgs> = {
  command: 'calls',
  describe: 'Follow the calls of the running daemon as they finish',
  builder: (y) =>
    daemonOptions(y)
      .option('follow', {
        alias: 'f',
        type: 'boolean',
        default: true,
        describe: 'Keep printing calls as they finish (the only mode so far)',
      })
      .option('server', { type: 'string', describe: 'Only this server' }),
  handler: async (argv) => {
    const { base } = daemonUrl(argv.url);
    const token = argv.token ?? process.env['MCP_DIRECTOR_TOKEN'];
    let response: Response;
    try {
      response = await fetch(`${base}/api/events`, {
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
      fail(`MCP Director is not running at ${base} (${cause}); start it with: mcp-director serve`);
    }
    if (!response.ok || response.body === null) {
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      fail(body.error ?? `${base}/api/events answered HTTP ${response.status}`);
    }
    const parser = eventParser({
      onEvent: (event) => {
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        const server = (data as { server?: unknown }).server;
        if (argv.server !== undefined && server !== argv.server) return;
        if (argv.json) {
          process.stdout.write(`${JSON.stringify({ event: event.event, ...(data as object) })}\n`);
        } else if (event.event === 'call') {
          process.stdout.write(`${callLine(data as LiveCall)}\n`);
        } else if (event.event === 'server') {
          const s = data as { server: string; state: string; restarts: number };
          process.stdout.write(`${time(Date.now())}  server ${s.server} is ${s.state}\n`);
        }
      },
      onRetry: () => {},
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
    fail(`the daemon at ${base} closed the stream`);
  },
};

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

function callLine(call: LiveCall): string {
  const latency =
    call.latencyUs >= 1_000_000
      ? `${(call.latencyUs / 1e6).toFixed(2)} s`
      : `${(call.latencyUs / 1000).toFixed(1)} ms`;
  const outcome = call.errorCode === null ? call.status : `${call.status} ${call.errorCode}`;
  return [
    time(call.ts),
    call.server,
    call.method,
    call.target,
    outcome,
    latency,
    call.client || '-',
    call.profile,
  ].join('  ');
}
