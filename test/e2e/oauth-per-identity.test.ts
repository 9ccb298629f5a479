/**
 * Credentials per user (README: Credentials per user): a remote server with
 * `"share": "identity"` gets one connection per caller identity, each signed in on its own,
 * against the OAuth fixture of test/fixtures/oauth-server.ts (which echoes the token's
 * subject). Two static tokens of two profiles sign in as two users and each reaches the
 * fixture as its own; an OAuth user of the daemon (a JWT from the test issuer) is an identity
 * too; one identity's sign-out leaves the others signed in; a session cannot change hands.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';
import { cli, signIn } from '../helpers/sign-in.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';
import { oauthIdentity } from '../../src/supervisor/ingress/bearer-jwts.js';

const ADMIN = 'admin-token-0123456789abcdef0123456789';
const ALICE = 'alice-token-0123456789abcdef0123456789';
const BOB = 'bob-token-0123456789abcdef012345678901';

interface SignInRow {
  server: string;
  identity?: string;
  signedIn: boolean;
}

describe('credentials per identity: "share": "identity"', () => {
  let fixture: HttpFixture;
  let issuer: TestIssuer;
  let daemon: Daemon;
  let env: NodeJS.ProcessEnv;
  const clients: Client[] = [];

  const connect = async (token: string): Promise<Client> => {
    const client = await connectWithToken(daemon, token, { name: 'per-identity-e2e' });
    clients.push(client);
    return client;
  };
  /** `whoami` through the director: the subject the fixture saw, or the error's message. */
  const whoami = (client: Client): Promise<string> =>
    client.callTool({ name: 'remote__whoami', arguments: {} }).then(
      (result) => textOf(result),
      (error: Error) => error.message,
    );
  const admin = ['--token', ADMIN];
  const api = (path: string, body: unknown): Promise<Response> =>
    fetch(`${daemon.base}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    fixture = await startHttpFixture('oauth-server.js', []);
    issuer = await startTestIssuer();
    env = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mcpd-identity-config-')) };
    daemon = await startDaemon(
      {
        mcpServers: { remote: { url: fixture.url, share: 'identity' } },
        profiles: { alpha: { servers: ['remote'] }, beta: { servers: ['remote'] } },
        tokens: {
          admin: { token: ADMIN, admin: true },
          alice: { token: ALICE, profile: 'alpha' },
          bob: { token: BOB, profile: 'beta' },
        },
        oauth: { issuer: issuer.url, defaultProfile: 'alpha' },
      },
      { env },
    );
    // The server's own sign-in lists its tools (and carries calls made without a token).
    const { result } = await signIn(daemon, env, { args: admin, loginHint: 'catalog' });
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await daemon?.stop();
    await issuer?.close();
    await fixture?.stop();
  });

  test('an identity that has not signed in is told the command with its --as', async () => {
    const alice = await connect(ALICE);
    const tools = (await alice.listTools()).tools.map((tool) => tool.name);
    assert.ok(tools.includes('remote__whoami'), tools.join());
    assert.match(
      await whoami(alice),
      /needs a sign-in for identity 'alice': it is not signed in; ask an admin to run `mcp-director auth login remote --as alice`/,
    );
  });

  test('two tokens of two profiles reach the server as two users', async () => {
    for (const [as, loginHint] of [
      ['alice', 'alice@example.com'],
      ['bob', 'bob@example.com'],
    ] as const) {
      const { result } = await signIn(daemon, env, { as, loginHint, args: admin });
      assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, new RegExp(`Signed in to 'remote' as '${as}'`));
    }
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    assert.equal(await whoami(alice), 'subject=alice@example.com');
    assert.equal(await whoami(bob), 'subject=bob@example.com');
    // Interleaved and concurrent: each call goes out with its own caller's token.
    const both = await Promise.all([whoami(bob), whoami(alice), whoami(bob), whoami(alice)]);
    assert.deepEqual(both, [
      'subject=bob@example.com',
      'subject=alice@example.com',
      'subject=bob@example.com',
      'subject=alice@example.com',
    ]);

    const status = await cli(['auth', 'status', '--url', daemon.base, '--json', ...admin], env);
    assert.equal(status.code, 0, status.stderr);
    const rows = (JSON.parse(status.stdout) as { signIns: SignInRow[] }).signIns;
    assert.deepEqual(
      rows.map((r) => [r.server, r.identity ?? '', r.signedIn]),
      [
        ['remote', '', true],
        ['remote', 'alice', true],
        ['remote', 'bob', true],
      ],
    );
  });

  test('an OAuth user of the daemon is an identity of its own, named in its errors', async () => {
    const jwt = await issuer.sign({ sub: 'carol' }, daemon.url);
    const carol = await connect(jwt);
    const identity = oauthIdentity(issuer.url, 'carol');
    assert.match(
      await whoami(carol),
      new RegExp(`run \`mcp-director auth login remote --as ${identity}\``),
    );
    const { result } = await signIn(daemon, env, {
      as: identity,
      loginHint: 'carol@example.com',
      args: admin,
    });
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.equal(await whoami(carol), 'subject=carol@example.com');
    // A sign-in that names no user is nobody: refused, never carried as someone else.
    const nobody = await connect(await issuer.sign({ scope: 'mcp' }, daemon.url));
    assert.match(await whoami(nobody), /this request has no identity/);
  });

  test("one identity's sign-out stops its connection; the others keep theirs", async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    assert.equal(await whoami(alice), 'subject=alice@example.com');
    const logout = await cli(
      ['auth', 'logout', 'remote', '--as', 'alice', '--url', daemon.base, ...admin],
      env,
    );
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /signed out of 'remote' as 'alice'/);
    assert.match(await whoami(alice), /auth login remote --as alice/);
    assert.equal(await whoami(bob), 'subject=bob@example.com');
  });

  test('a session cannot change hands between identities', async () => {
    const init = await fetch(daemon.url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${ALICE}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x' } },
      }),
    });
    const session = init.headers.get('mcp-session-id') ?? '';
    assert.equal(init.status, 200);
    // Same profile, another identity: an OAuth user mapped to alpha.
    const dave = await issuer.sign({ sub: 'dave' }, daemon.url);
    const stolen = await fetch(daemon.url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${dave}`,
        'Mcp-Session-Id': session,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    assert.equal(stolen.status, 403);
    assert.match(await stolen.text(), /started with another token or sign-in/);
  });

  test('the sign-in API checks the identity it is given', async () => {
    const notString = await api('/api/servers/remote/sign-in', { identity: 7 });
    assert.equal(notString.status, 400);
    const badName = await api('/api/servers/remote/sign-in', { identity: '../alice' });
    assert.equal(badName.status, 400);
    assert.match(((await badName.json()) as { error: string }).error, /Not an identity/);
  });
});
