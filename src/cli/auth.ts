/**
 * `mcp-director auth login|status|logout`: signing the running daemon in to remote servers
 * (README: Signing in to remote servers). The daemon does the OAuth flow and keeps the
 * tokens; this command starts a sign-in, shows (and where it can, opens) the URL, and waits
 * until the browser has come back to the daemon's `/oauth/callback`.
 */
import type { Argv, CommandModule } from './command-line.js';
import {
  daemonOptions,
  fail,
  fetchApi,
  printJson,
  printTable,
  type DaemonArgs,
} from './inspect.js';

interface AuthArgs extends DaemonArgs {
  action: 'login' | 'status' | 'logout';
  server: string | undefined;
  open: boolean;
  timeout: number;
  as: string | undefined;
}

interface SignInRow {
  server: string;
  identity?: string;
  url: string;
  mode: string;
  signedIn: boolean;
  expiresAt?: number;
  refreshable?: boolean;
  scope?: string;
  issuer?: string;
}

/** How often `login` asks whether the browser came back. */
const POLL_MS = 500;

export const authCommand: CommandModule<object, AuthArgs> = {
  command: 'auth <action> [server]',
  describe:
    'Sign the running daemon in to a remote server with OAuth, show sign-ins, or sign out (admin token)',
  builder: (y) =>
    daemonOptions(y)
      .positional('action', {
        type: 'string',
        choices: ['login', 'status', 'logout'] as const,
        describe: "login: sign in to <server>; status: every sign-in; logout: forget <server>'s",
      })
      .positional('server', {
        type: 'string',
        describe: 'The remote server (its key in the config)',
      })
      .option('open', {
        type: 'boolean',
        default: true,
        describe: 'login: open the sign-in page in a browser (--no-open: only print its URL)',
      })
      .option('as', {
        type: 'string',
        describe:
          'login/logout: the identity (a token\'s name, or an OAuth user\'s as its errors name it) of a server with "share": "identity"',
      })
      .option('timeout', {
        type: 'number',
        default: 600,
        describe: 'login: seconds to wait for the browser to come back',
      }) as Argv<AuthArgs>,
  handler: async (argv) => {
    try {
      if (argv.action === 'status') return await status(argv);
      const server =
        argv.server ?? fail(`name the server: mcp-director auth ${argv.action} <server>`);
      const path = `/api/servers/${encodeURIComponent(server)}`;
      const who = argv.as === undefined ? {} : { identity: argv.as };
      if (argv.action === 'logout') {
        const body = (await fetchApi(argv, `${path}/sign-out`, who)) as { signedOut: boolean };
        if (argv.json) return printJson(body);
        const named = `'${server}'${asIdentity(argv.as)}`;
        process.stdout.write(
          body.signedOut
            ? `signed out of ${named}; it needs a new sign-in: ${loginCommand(server, argv.as)}\n`
            : `${named} was not signed in\n`,
        );
        return;
      }
      await login(argv, server, path, who);
    } catch (error) {
      fail((error as Error).message);
    }
  },
};

async function login(
  argv: AuthArgs,
  server: string,
  path: string,
  who: { identity?: string },
): Promise<void> {
  const started = (await fetchApi(argv, `${path}/sign-in`, who)) as { authorizationUrl: string };
  const url = started.authorizationUrl;
  const named = `'${server}'${asIdentity(argv.as)}`;
  process.stdout.write(`To sign in to ${named}, open this URL in a browser:\n\n  ${url}\n\n`);
  if (argv.open && process.stdout.isTTY) {
    // Best effort: without a browser here (a server, SSH), the printed URL is the way.
    const { default: open } = await import('open');
    await open(url).catch(() => undefined);
  }
  process.stdout.write('Waiting for the sign-in to finish…\n');
  const deadline = Date.now() + argv.timeout * 1000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const rows = ((await fetchApi(argv, '/api/sign-ins')) as { signIns: SignInRow[] }).signIns;
    const row = rows.find((r) => r.server === server && r.identity === argv.as);
    if (row?.signedIn === true) {
      if (argv.json) return printJson(row);
      process.stdout.write(
        `Signed in to ${named}${expiry(row)}; the daemon restarts it with the sign-in.\n`,
      );
      return;
    }
  }
  fail(`the sign-in to ${named} did not finish within ${argv.timeout} s; run the command again`);
}

async function status(argv: AuthArgs): Promise<void> {
  const rows = ((await fetchApi(argv, '/api/sign-ins')) as { signIns: SignInRow[] }).signIns.filter(
    (r) => argv.server === undefined || r.server === argv.server,
  );
  const states = (await fetchApi(argv, '/api/servers')) as {
    servers: { id: string; state?: string }[];
  };
  if (argv.json) return printJson({ signIns: rows });
  if (rows.length === 0) {
    process.stdout.write(
      'No remote server signs in (servers with "auth": "none" or static Authorization headers do not)\n',
    );
    return;
  }
  printTable(
    ['SERVER', 'IDENTITY', 'STATE', 'SIGNED IN', 'EXPIRES', 'SCOPE', 'URL'],
    rows.map((r) => [
      r.server,
      r.identity ?? '-',
      r.identity === undefined
        ? (states.servers.find((s) => s.id === r.server)?.state ?? '?')
        : '-',
      r.signedIn
        ? r.refreshable === true
          ? 'yes (refreshable)'
          : 'yes'
        : `no: ${loginCommand(r.server, r.identity)}`,
      r.expiresAt === undefined ? '-' : new Date(r.expiresAt).toISOString(),
      r.scope ?? '-',
      r.url,
    ]),
  );
}

function loginCommand(server: string, identity: string | undefined): string {
  return `mcp-director auth login ${server}${identity === undefined ? '' : ` --as ${identity}`}`;
}

function asIdentity(identity: string | undefined): string {
  return identity === undefined ? '' : ` as '${identity}'`;
}

function expiry(row: SignInRow): string {
  if (row.expiresAt === undefined) return '';
  const refresh = row.refreshable === true ? ', refreshed automatically' : '';
  return ` (token valid until ${new Date(row.expiresAt).toISOString()}${refresh})`;
}
