/**
 * `mcp-director auth …` run as a user runs it, with the test as the browser: for the OAuth
 * fixture (test/fixtures/oauth-server.ts), whose authorization server approves at once and
 * takes the user from `login_hint`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, type Daemon } from './daemon.js';

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onLine` sees its stdout as it comes. */
export function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): Promise<CliOutcome> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const line of chunk.split('\n')) onLine?.(line);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

export interface SignInOptions {
  /** `--as <identity>`, for a `share: "identity"` server. */
  as?: string;
  /** The user the fixture's authorization server signs in (its default: user-1). */
  loginHint?: string;
  /** More CLI arguments (`--token`). */
  args?: string[];
}

/**
 * `mcp-director auth login remote`: the test opens the printed URL, the authorization server
 * approves and sends the browser back to the daemon's callback. The CLI's outcome, and the
 * page the browser saw.
 */
export async function signIn(
  daemon: Daemon,
  env: NodeJS.ProcessEnv,
  options: SignInOptions = {},
): Promise<{ result: CliOutcome; page: string }> {
  let visited: Promise<string> | undefined;
  const args = [
    'auth',
    'login',
    'remote',
    '--no-open',
    '--url',
    daemon.base,
    ...(options.as === undefined ? [] : ['--as', options.as]),
    ...(options.args ?? []),
  ];
  const result = await cli(args, env, (line) => {
    const printed = /^\s+(http\S+)$/.exec(line)?.[1];
    if (printed === undefined || visited !== undefined) return;
    const url = new URL(printed);
    if (options.loginHint !== undefined) url.searchParams.set('login_hint', options.loginHint);
    visited = (async () => {
      const approval = await fetch(url, { redirect: 'manual' });
      assert.equal(approval.status, 302);
      const callback = new URL(approval.headers.get('location') ?? '');
      assert.equal(`${callback.origin}${callback.pathname}`, `${daemon.base}/oauth/callback`);
      const page = await fetch(callback);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      return html;
    })();
  });
  return { result, page: (await visited) ?? '' };
}
