/**
 * `mcp-director servers` and `mcp-director tools`: what a running daemon has, read from its
 * `/api` (the same JSON the dashboard reads), printed as a table or, with --json, as is.
 */
import type { Argv, CommandModule } from './command-line.js';
import { CONFIG_DEFAULTS } from '../shared/config/defaults.js';
import { formatTable } from '../shared/text-table.js';

/** Where `serve` listens by default (listen.host / listen.port in the config). */
export const DEFAULT_DAEMON_URL = `http://${CONFIG_DEFAULTS.listen.host}:${CONFIG_DEFAULTS.listen.port}`;

export interface DaemonArgs {
  url: string;
  token: string | undefined;
  json: boolean;
}

interface ToolsArgs extends DaemonArgs {
  profile: string | undefined;
}

export function daemonOptions<T>(y: Argv<T>): Argv<T & DaemonArgs> {
  return y
    .option('url', {
      type: 'string',
      default: process.env['MCP_DIRECTOR_URL'] ?? DEFAULT_DAEMON_URL,
      describe: `The daemon: its base URL or the MCP URL it prints (…/mcp or …/mcp/<profile>) (default: $MCP_DIRECTOR_URL, else ${DEFAULT_DAEMON_URL})`,
    })
    .option('token', {
      type: 'string',
      describe: 'A token, when the daemon requires one (default: $MCP_DIRECTOR_TOKEN)',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Print the API answer as JSON',
    }) as Argv<T & DaemonArgs>;
}

interface ServersArgs extends DaemonArgs {
  action: 'restart' | 'stop' | 'start' | undefined;
  name: string | undefined;
}

export const serversCommand: CommandModule<object, ServersArgs> = {
  command: 'servers [action] [name]',
  describe:
    'List the servers of the running daemon with their state, or restart, stop or start one (admin token)',
  builder: (y) =>
    daemonOptions(y)
      .positional('action', {
        type: 'string',
        choices: ['restart', 'stop', 'start'] as const,
        describe: 'Restart, stop or start the server <name> (POST /api/servers/<name>/<action>)',
      })
      .positional('name', {
        type: 'string',
        describe: 'The server (its key in the config)',
      }) as Argv<ServersArgs>,
  handler: async (argv) => {
    if (argv.action !== undefined) {
      if (argv.name === undefined) {
        fail(`name the server to ${argv.action}: mcp-director servers ${argv.action} <name>`);
      }
      return controlServer(argv, argv.action, argv.name);
    }
    const body = (await getApi(argv, '/api/servers')) as { servers: ServerRow[] };
    if (argv.json) return printJson(body);
    printTable(
      ['SERVER', 'STATE', 'TRANSPORT', 'TOOLS', 'RESTARTS', 'DETAIL'],
      body.servers.flatMap((s) => [
        [
          s.id,
          s.state ?? '?',
          s.transport,
          String(s.counts?.tools ?? '-'),
          String(s.restarts ?? 0),
          s.error ?? s.command ?? s.url ?? '',
        ],
        // A per-project server's instances, one line each (README: Projects).
        ...(s.projects ?? []).map((p) => [
          `  ${s.id} @ project`,
          p.state,
          '',
          '',
          '',
          `${p.dir}${p.pid === undefined ? '' : ` (pid ${p.pid})`}`,
        ]),
      ]),
    );
  },
};

/** Asks the daemon to restart, stop or start one server; its state then follows on /api/events. */
async function controlServer(argv: DaemonArgs, action: string, name: string): Promise<void> {
  let body: unknown;
  try {
    body = await fetchApi(argv, `/api/servers/${encodeURIComponent(name)}/${action}`, {});
  } catch (error) {
    fail((error as Error).message);
  }
  if (argv.json) return printJson(body);
  process.stdout.write(
    `asked the daemon to ${action} server '${name}'; watch it with: mcp-director servers\n`,
  );
}

export const toolsCommand: CommandModule<object, ToolsArgs> = {
  command: 'tools',
  describe: 'List the tools a profile sees on the running daemon',
  builder: (y) =>
    daemonOptions(y).option('profile', {
      type: 'string',
      describe: "The profile (default: the token's profile, else default)",
    }),
  handler: async (argv) => {
    const profile = argv.profile ?? daemonUrl(argv.url).profile;
    const query = profile === undefined ? '' : `?profile=${encodeURIComponent(profile)}`;
    const body = (await getApi(argv, `/api/tools${query}`)) as {
      profile: string;
      toolSurface: string;
      tools: { name: string; server: string; description: string }[];
    };
    if (argv.json) return printJson(body);
    printTable(
      ['TOOL', 'SERVER', 'DESCRIPTION'],
      body.tools.map((t) => [t.name, t.server, t.description]),
    );
    const surface = body.toolSurface === 'meta' ? '; clients see the 5 router tools (meta)' : '';
    process.stdout.write(`${body.tools.length} tools in profile '${body.profile}'${surface}\n`);
  },
};

interface ServerRow {
  id: string;
  state?: string;
  transport: string;
  restarts?: number;
  error?: string;
  command?: string;
  url?: string;
  counts?: { tools: number };
  /** A per-project server's instances (admin only). */
  projects?: Array<{ dir: string; state: string; pid?: number }>;
}

/** The daemon does not answer at all (as opposed to answering with an error). */
export class DaemonUnreachable extends Error {}

/**
 * GET from the daemon's API, or with `post` an action (POST of that JSON body); rejects with
 * one line (`DaemonUnreachable` when it is not there).
 */
export async function fetchApi(argv: DaemonArgs, path: string, post?: object): Promise<unknown> {
  const { base } = daemonUrl(argv.url);
  // Not a yargs default: --help would print it.
  const token = argv.token ?? process.env['MCP_DIRECTOR_TOKEN'];
  const headers: Record<string, string> =
    token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const init: RequestInit =
    post === undefined
      ? {}
      : {
          method: 'POST',
          body: JSON.stringify(post),
          headers: { ...headers, 'Content-Type': 'application/json' },
        };
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      headers,
      ...init,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new DaemonUnreachable(
      `MCP Director is not running at ${base} (${cause}); start it with: mcp-director serve`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  if (response.status === 401) throw new Error(`${body.error ?? 'unauthorized'} (pass --token)`);
  if (!response.ok)
    throw new Error(body.error ?? `${base}${path} answered HTTP ${response.status}`);
  return body;
}

/** `fetchApi`, and any failure ends the process with one line and exit code 1. */
async function getApi(argv: DaemonArgs, path: string): Promise<unknown> {
  try {
    return await fetchApi(argv, path);
  } catch (error) {
    fail((error as Error).message);
  }
}

/**
 * The daemon's base URL from what a user passes: the base itself, or the MCP URL the daemon
 * prints (`…/mcp`, or `…/mcp/<profile>`, whose profile then is the default for `tools`).
 */
export function daemonUrl(url: string): { base: string; profile?: string } {
  const trimmed = url.replace(/\/+$/, '');
  const match = /^(.*)\/(?:mcp|sse)(?:\/([^/?#]+))?$/.exec(trimmed);
  if (match === null) return { base: trimmed };
  const [, base = trimmed, profile] = match;
  return profile === undefined ? { base } : { base, profile: decodeURIComponent(profile) };
}

export function fail(message: string): never {
  process.stderr.write(`mcp-director: ${message}\n`);
  process.exit(1);
}

export function printJson(body: unknown): void {
  process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
}

export function printTable(header: string[], rows: string[][]): void {
  process.stdout.write(`${formatTable(header, rows)}\n`);
}
