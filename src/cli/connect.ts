/**
 * `mcp-director connect`: the stdio server that clients which only launch commands (Claude
 * Desktop, most IDEs) start, bridged to the running daemon's Streamable HTTP endpoint.
 * stdin and stdout carry MCP only; everything for people goes to stderr. The bridge itself
 * lives in `connect/bridge.ts`; this file reads the options, wires stdio and exits 0 when
 * stdin ends (or on SIGTERM/SIGINT), after ending the session.
 */
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandModule } from './command-line.js';
import { Bridge } from './connect/bridge.js';
import { DEFAULT_DAEMON_URL } from './inspect.js';

const DEFAULT_URL = `${DEFAULT_DAEMON_URL}/mcp`;

interface ConnectArgs {
  url: string;
  profile: string | undefined;
  token: string | undefined;
  project: string | undefined;
}

const CLAUDE_DESKTOP_SNIPPET = `Claude Desktop (claude_desktop_config.json):

  {
    "mcpServers": {
      "director": {
        "command": "mcp-director",
        "args": ["connect", "--profile", "work"],
        "env": { "MCP_DIRECTOR_TOKEN": "<token, if the daemon wants one>" }
      }
    }
  }

Start the daemon first (mcp-director serve --no-stdio). While it is down,
requests get an error; once it is back (even restarted) they work again.`;

export const connectCommand: CommandModule<object, ConnectArgs> = {
  command: 'connect',
  describe:
    'Be a stdio MCP server bridged to the running daemon (for clients that launch commands)',
  builder: (y) =>
    y
      .option('url', {
        type: 'string',
        default: process.env['MCP_DIRECTOR_URL'] || DEFAULT_URL,
        defaultDescription: `$MCP_DIRECTOR_URL, else ${DEFAULT_URL}`,
        describe: "The daemon's MCP endpoint",
      })
      .option('profile', {
        type: 'string',
        describe: 'Use the profile NAME: connects to <url>/NAME',
      })
      .option('token', {
        type: 'string',
        // No default shown: it is a secret, and --help output ends up in bug reports.
        describe:
          'Bearer token for the daemon (default: $MCP_DIRECTOR_TOKEN, which is better: other users can see --token in ps)',
      })
      .option('project', {
        type: 'string',
        defaultDescription: 'the folder connect runs in, if the daemon allows it',
        describe:
          'The project folder this client works in: "share": "project" servers run there (README: Projects)',
      })
      .epilog(CLAUDE_DESKTOP_SNIPPET),
  handler: async (argv) => {
    let endpoint: string;
    try {
      endpoint = endpointOf(argv.url, argv.profile);
    } catch (error) {
      process.stderr.write(`mcp-director connect: ${(error as Error).message}\n`);
      process.exit(2);
    }
    const token = argv.token || process.env['MCP_DIRECTOR_TOKEN'] || undefined;
    const bridge = new Bridge({
      endpoint,
      token,
      // Resolved here: the daemon has another working directory.
      project:
        argv.project === undefined
          ? { dir: process.cwd(), explicit: false }
          : { dir: path.resolve(argv.project), explicit: true },
      write: (line) => void process.stdout.write(`${line}\n`),
      warn: (line) => void process.stderr.write(`mcp-director connect: ${line}\n`),
    });
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    lines.on('line', (line) => bridge.receive(line));
    await new Promise<void>((resolve) => {
      lines.once('close', resolve);
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
      // The client went away without closing stdin (EPIPE on stdout): nobody to answer.
      process.stdout.on('error', () => resolve());
    });
    lines.close();
    await bridge.close();
    // Exit once stdout has drained: undici's idle sockets would otherwise keep us alive.
    process.stdout.write('', () => process.exit(0));
  },
};

/** `--url` plus `/<profile>`; throws a one-line reason for yargs to print. */
export function endpointOf(url: string, profile: string | undefined): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url must be an http(s) URL such as ${DEFAULT_URL} (got '${url}')`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`--url must be an http(s) URL such as ${DEFAULT_URL} (got '${url}')`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new Error('--url must not hold credentials; pass the token with --token');
  }
  if (profile === undefined) return parsed.href;
  if (profile === '' || profile.includes('/')) {
    throw new Error(`--profile must be a profile name without '/' (got '${profile}')`);
  }
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/${encodeURIComponent(profile)}`;
  return parsed.href;
}
