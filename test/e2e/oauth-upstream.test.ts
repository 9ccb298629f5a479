/**
 * Signing in to an OAuth-protected remote server (README: Signing in to remote servers),
 * against the fixture of test/fixtures/oauth-server.ts: an SDK server behind the SDK's auth
 * middleware, with an in-memory authorization server that approves without a person. The
 * director finds the server needs a sign-in (`needs-auth`, with the command to run);
 * `mcp-director auth login` completes the whole flow (the test plays the browser); the tools
 * come with `list_changed`; an expired access token is refreshed without the client noticing;
 * a revoked one turns the server `needs-auth` with a clear error to callers. Tokens are
 * stored encrypted (0600) and appear nowhere else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually, startDaemon, type Daemon } from '../helpers/daemon.js';
import { cli, signIn } from '../helpers/sign-in.js';
import { startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { textOf } from '../helpers/mcp.js';
import { CredentialStore, credentialKey } from '../../src/shared/credentials/credential-store.js';

interface ServerRow {
  id: string;
  state?: string;
  error?: string;
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  assert.ok(response.ok, `${url}: HTTP ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as T;
}

describe('signing in to an OAuth-protected remote server', () => {
  let fixture: HttpFixture;
  let daemon: Daemon;
  let client: Client;
  let env: NodeJS.ProcessEnv;
  let listChanges = 0;

  const servers = async () =>
    (await json<{ servers: ServerRow[] }>(`${daemon.base}/api/servers`)).servers;
  const remote = async () => (await servers()).find((s) => s.id === 'remote');
  const stats = () =>
    json<{ refreshes: number; tokenExchanges: number; authorizations: number }>(
      `${fixture.url.replace(/\/mcp$/, '')}/test/stats`,
    );
  const fixtureControl = (what: 'expire' | 'revoke') =>
    json(`${fixture.url.replace(/\/mcp$/, '')}/test/${what}?subject=user-1`, { method: 'POST' });

  before(async () => {
    fixture = await startHttpFixture('oauth-server.js', []);
    // The key file goes under XDG_CONFIG_HOME: kept apart from the data folder.
    env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mcpd-oauth-config-')) };
    daemon = await startDaemon({ mcpServers: { remote: { url: fixture.url } } }, { env });
    client = new Client({ name: 'oauth-upstream-e2e', version: '1.0.0' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanges++;
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
  });
  after(async () => {
    await client?.close();
    await daemon?.stop();
    await fixture?.stop();
  });

  test('a server that answers 401 with a Bearer challenge is needs-auth, with the command to run', async () => {
    const row = await eventually(async () => {
      const r = await remote();
      return r?.state === 'needs-auth' ? r : undefined;
    });
    assert.match(
      row.error ?? '',
      /needs a sign-in: it is not signed in; run `mcp-director auth login remote`/,
    );
    assert.deepEqual((await client.listTools()).tools, []);
    const status = await cli(['auth', 'status', '--url', daemon.base], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /remote\s+-\s+needs-auth\s+no: mcp-director auth login remote/);
  });

  test('`auth login` completes the flow; the tools come with list_changed and calls succeed', async () => {
    const { result, page } = await signIn(daemon, env);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /Signed in to 'remote'/);
    assert.match(page, /Signed in to remote/);
    const authorization = new URL(/^\s+(http\S+)$/m.exec(result.stdout)?.[1] ?? '');
    assert.equal(authorization.searchParams.get('resource'), fixture.url);
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');

    await eventually(async () => ((await remote())?.state === 'ready' ? true : undefined));
    await eventually(() => (listChanges > 0 ? true : undefined), 5000, 'tools/list_changed');
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['remote__echo', 'remote__whoami']);
    const who = await client.callTool({ name: 'remote__whoami', arguments: {} });
    assert.equal(textOf(who), 'subject=user-1');
  });

  test('the tokens are stored encrypted, 0600, and appear nowhere else', async () => {
    const file = join(daemon.dir, 'data', 'credentials', 'remote.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(daemon.dir, 'data', 'credentials')).mode & 0o777, 0o700);
    const record = new CredentialStore(join(daemon.dir, 'data'), credentialKey(env)).read('remote');
    const token = record?.tokens?.['access_token'];
    const refresh = record?.tokens?.['refresh_token'];
    assert.ok(typeof token === 'string' && typeof refresh === 'string');
    assert.ok(!readFileSync(file, 'utf8').includes(token), 'not in the clear on disk');
    const seen = [
      daemon.stderr(),
      JSON.stringify(await servers()),
      JSON.stringify(await json(`${daemon.base}/api/sign-ins`)),
      JSON.stringify(await json(`${daemon.base}/api/calls`)),
    ].join('\n');
    assert.ok(!seen.includes(token) && !seen.includes(refresh), 'never in logs or /api');
  });

  test('an expired access token is refreshed without the client noticing', async () => {
    const before = await stats();
    await fixtureControl('expire');
    const who = await client.callTool({ name: 'remote__whoami', arguments: {} });
    assert.equal(textOf(who), 'subject=user-1');
    const afterwards = await stats();
    assert.equal(afterwards.refreshes, before.refreshes + 1);
    assert.equal(afterwards.authorizations, before.authorizations, 'no new sign-in');
    assert.equal((await remote())?.state, 'ready');
  });

  test('a revoked sign-in turns the server needs-auth, with a clear error to callers', async () => {
    await fixtureControl('revoke');
    const failure = await client.callTool({ name: 'remote__whoami', arguments: {} }).then(
      () => assert.fail('the call succeeded with a revoked sign-in'),
      (error: Error) => error.message,
    );
    assert.match(
      failure,
      /Server 'remote' needs a sign-in: its sign-in expired or was revoked; run `mcp-director auth login remote`/,
    );
    const row = await eventually(async () => {
      const r = await remote();
      return r?.state === 'needs-auth' ? r : undefined;
    });
    assert.match(row.error ?? '', /auth login remote/);
    // Later calls are refused at once with the same advice.
    const again = await client.callTool({ name: 'remote__echo', arguments: { text: 'x' } }).then(
      () => assert.fail('the call succeeded'),
      (error: Error) => error.message,
    );
    assert.match(again, /needs a sign-in.*auth login remote/);
    const status = await cli(['auth', 'status', '--url', daemon.base, '--json'], env);
    const rows = (JSON.parse(status.stdout) as { signIns: { server: string; signedIn: boolean }[] })
      .signIns;
    assert.deepEqual(
      rows.map((r) => [r.server, r.signedIn]),
      [['remote', false]],
    );
  });

  test('`auth logout` forgets a sign-in; unknown servers get a clear error', async () => {
    const logout = await cli(['auth', 'logout', 'remote', '--url', daemon.base], env);
    assert.equal(logout.code, 0, logout.stderr);
    const unknown = await cli(['auth', 'login', 'nope', '--no-open', '--url', daemon.base], env);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /No remote server named 'nope'.*remote servers that can sign in: 'remote'/,
    );
    const badName = await fetch(`${daemon.base}/api/servers/%ZZ/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(badName.status, 400);
    const notJson = await fetch(`${daemon.base}/api/servers/remote/sign-in`, { method: 'POST' });
    assert.equal(notJson.status, 415);
    const forged = await fetch(`${daemon.base}/oauth/callback?code=x&state=forged`);
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /unknown or expired/);
  });
});

describe('a token about to expire', () => {
  let fixture: HttpFixture;
  let daemon: Daemon;

  before(async () => {
    // Tokens valid 62 s: within a second or two they are inside the 60 s refresh margin.
    fixture = await startHttpFixture('oauth-server.js', ['--access-ttl', '62']);
    const env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mcpd-oauth-config-')) };
    daemon = await startDaemon({ mcpServers: { remote: { url: fixture.url } } }, { env });
    const { result } = await signIn(daemon, env);
    assert.equal(result.code, 0, result.stderr);
  });
  after(async () => {
    await daemon?.stop();
    await fixture?.stop();
  });

  test('is refreshed before it expires, without a 401', async () => {
    const client = new Client({ name: 'oauth-refresh-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    await eventually(async () =>
      (await client.listTools()).tools.some((t) => t.name === 'remote__whoami') ? true : undefined,
    );
    const base = fixture.url.replace(/\/mcp$/, '');
    const refreshes = async () =>
      (await json<{ refreshes: number }>(`${base}/test/stats`)).refreshes;
    const before = await refreshes();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // The token is still valid for a minute: only the director's own margin refreshes it.
    const who = await client.callTool({ name: 'remote__whoami', arguments: {} });
    assert.equal(textOf(who), 'subject=user-1');
    assert.ok((await refreshes()) > before, 'refreshed ahead of expiry');
    await client.close();
  });
});
