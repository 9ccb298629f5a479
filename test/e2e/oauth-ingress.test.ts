/**
 * The daemon as an OAuth resource server (README: Protecting the daemon with OAuth): bearer
 * JWTs of a test issuer (test/helpers/test-issuer.ts) map to profiles by their claims, over the
 * official SDK client; expired, wrong-audience, wrong-issuer, unsigned and foreign-key tokens
 * get 401 with a `WWW-Authenticate` naming the error and the protected resource metadata; the
 * metadata is served per endpoint; static tokens keep working beside; and `mcp-remote`, a real
 * client nobody here wrote, follows the metadata to the issuer (its sign-in is not completed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnsecuredJWT } from 'jose';
import { fixture, REPO_ROOT, startDaemon, type Daemon } from '../helpers/daemon.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';
import { initializeBody, rawPost } from '../helpers/raw-mcp.js';
import { startTestIssuer, type TestIssuer } from '../helpers/test-issuer.js';

const STATIC_TOKEN = 'a-static-token-for-profile-b-0123';

function connect(daemon: Daemon, token: string, path = '/mcp'): Promise<Client> {
  return connectWithToken(daemon, token, { path, name: 'oauth-ingress-e2e' });
}

/** A raw initialize: the status and `WWW-Authenticate` a client gets. */
async function initialize(
  daemon: Daemon,
  token: string | undefined,
  path = '/mcp',
): Promise<{ status: number; challenge: string; message: string }> {
  const answer = await rawPost(
    `${daemon.base}${path}`,
    initializeBody(),
    token === undefined ? {} : { authorization: `Bearer ${token}` },
  );
  return {
    status: answer.status,
    challenge: answer.headers.get('www-authenticate') ?? '',
    message: answer.status === 200 ? '' : (answer.message?.error?.message ?? ''),
  };
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name).sort();
}

describe('OAuth-protected ingress', () => {
  let issuer: TestIssuer;
  let daemon: Daemon;
  let metadataUrl: string;

  before(async () => {
    issuer = await startTestIssuer();
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: { ops: { servers: ['alpha'] }, b: { servers: ['beta'] } },
      tokens: { bob: { token: STATIC_TOKEN, profile: 'b' } },
      oauth: {
        issuer: issuer.url,
        scopes: ['mcp'],
        profiles: [{ claim: 'groups', value: 'ops', profile: 'ops', admin: true }],
        defaultProfile: 'default',
      },
    });
    metadataUrl = `${daemon.base}/.well-known/oauth-protected-resource/mcp`;
  });
  after(async () => {
    await daemon?.stop();
    await issuer?.close();
  });

  test('the protected resource metadata names each endpoint and the issuer', async () => {
    const metadata = async (path: string) => {
      const response = await fetch(`${daemon.base}/.well-known/oauth-protected-resource${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    assert.deepEqual(await metadata('/mcp'), {
      status: 200,
      body: {
        resource: daemon.url,
        authorization_servers: [issuer.url],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp'],
        resource_name: 'MCP Director',
      },
    });
    assert.equal((await metadata('/mcp/ops')).body['resource'], `${daemon.url}/ops`);
    assert.equal((await metadata('')).body['resource'], daemon.base);
    assert.equal((await metadata('/mcp/nope')).status, 404);
    assert.equal(
      (await fetch(`${daemon.base}/.well-known/oauth-authorization-server`)).status,
      404,
    );
  });

  test('without a token: 401 pointing at the metadata, with no error code', async () => {
    const refused = await initialize(daemon, undefined);
    assert.equal(refused.status, 401);
    assert.equal(
      refused.challenge,
      `Bearer realm="mcp-director", resource_metadata="${metadataUrl}", scope="mcp"`,
    );
    assert.match(refused.message, /sign in with its OAuth issuer/);
    const forProfile = await initialize(daemon, undefined, '/mcp/ops');
    assert.match(
      forProfile.challenge,
      /resource_metadata="[^"]+\/oauth-protected-resource\/mcp\/ops"/,
    );
    const api = await fetch(`${daemon.base}/api/servers`);
    assert.equal(api.status, 401);
    assert.match(api.headers.get('www-authenticate') ?? '', /resource_metadata=/);
  });

  test("a token's claims select its profile; an admin claim opens /api", async () => {
    const ops = await issuer.sign({ sub: 'olivia', groups: ['ops'], scope: 'mcp' }, daemon.url);
    const anyone = await issuer.sign({ sub: 'dan', scope: 'openid mcp' }, daemon.url);
    const opsClient = await connect(daemon, ops);
    const anyoneClient = await connect(daemon, anyone);
    const opsTools = await toolNames(opsClient);
    assert.ok(
      opsTools.length > 0 && opsTools.every((n) => n.startsWith('alpha__')),
      opsTools.join(),
    );
    const allTools = await toolNames(anyoneClient);
    assert.ok(
      allTools.some((n) => n.startsWith('beta__')),
      allTools.join(),
    );
    assert.equal(
      textOf(await opsClient.callTool({ name: 'alpha__echo', arguments: { text: 'hi' } })),
      'hi',
    );
    // A token for its profile's own resource URL, used there.
    const atProfile = await issuer.sign(
      { sub: 'olivia', groups: ['ops'], scope: 'mcp' },
      `${daemon.url}/ops`,
    );
    const profileClient = await connect(daemon, atProfile, '/mcp/ops');
    assert.deepEqual(await toolNames(profileClient), opsTools);
    // Another profile's path is refused (403, no challenge: signing in again would not help).
    const wrongPath = await initialize(daemon, ops, '/mcp/b');
    assert.equal(wrongPath.status, 403);
    assert.match(wrongPath.message, /your sign-in is for profile 'ops'/);

    const admin = await fetch(`${daemon.base}/api/config`, {
      headers: { authorization: `Bearer ${ops}` },
    });
    assert.equal(admin.status, 200);
    const notAdmin = await fetch(`${daemon.base}/api/config`, {
      headers: { authorization: `Bearer ${anyone}` },
    });
    assert.equal(notAdmin.status, 403);
    await Promise.all([opsClient.close(), anyoneClient.close(), profileClient.close()]);
  });

  test('expired, wrong-audience, wrong-issuer, unsigned and foreign-key tokens get 401 invalid_token', async () => {
    const claims = { sub: 'mallory', scope: 'mcp' };
    const cases: [string, string, RegExp][] = [
      [
        'expired',
        await issuer.sign(claims, daemon.url, { exp: Math.floor(Date.now() / 1000) - 60 }),
        /expired/,
      ],
      ['wrong audience', await issuer.sign(claims, 'http://127.0.0.1:1/mcp'), /"aud"|'aud'/],
      [
        'wrong issuer',
        await issuer.sign(claims, daemon.url, { iss: 'http://127.0.0.1:1' }),
        /"iss"|'iss'/,
      ],
      [
        'unsigned',
        new UnsecuredJWT(claims)
          .setIssuer(issuer.url)
          .setAudience(daemon.url)
          .setExpirationTime('5m')
          .encode(),
        /algorithm|malformed/,
      ],
      [
        'foreign key',
        await issuer.sign(claims, daemon.url, { with: issuer.foreignKey }),
        /signature/,
      ],
    ];
    for (const [name, token, reason] of cases) {
      const refused = await initialize(daemon, token);
      assert.equal(refused.status, 401, name);
      assert.match(
        refused.challenge,
        new RegExp(
          `^Bearer realm="mcp-director", resource_metadata="${metadataUrl}", scope="mcp", error="invalid_token", error_description="[^"]+"$`,
        ),
        name,
      );
      assert.match(refused.challenge, reason, name);
      assert.match(refused.message, reason, name);
      assert.ok(!daemon.stderr().includes(token), `${name}: the token is never logged`);
    }
    const lacking = await initialize(
      daemon,
      await issuer.sign({ sub: 'dan', scope: 'openid' }, daemon.url),
    );
    assert.equal(lacking.status, 403);
    assert.match(
      lacking.challenge,
      /error="insufficient_scope", error_description="the token lacks the scope mcp"/,
    );
    const garbage = await initialize(daemon, 'not-a-jwt-and-not-a-known-token');
    assert.equal(garbage.status, 401);
    assert.match(garbage.challenge, /error="invalid_token"/);
  });

  test('static tokens keep working beside OAuth', async () => {
    const client = await connect(daemon, STATIC_TOKEN);
    const names = await toolNames(client);
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('beta__')), names.join());
    await client.close();
  });

  test('mcp-remote discovers the metadata and reaches the issuer', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mcp-remote-'));
    const before = issuer.hits.length;
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'node_modules/mcp-remote/dist/proxy.js'),
        daemon.url,
        '--transport',
        'http-only',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // No browser: the bundled opener runs $BROWSER, here a command that does nothing.
        env: {
          ...process.env,
          HOME: home,
          MCP_REMOTE_CONFIG_DIR: home,
          BROWSER: 'true',
          DISPLAY: '',
        },
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8');
    try {
      const authorizationUrl = await new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`mcp-remote printed no authorization URL:\n${stderr}`)),
          20_000,
        );
        child.stderr.on('data', (chunk: string) => {
          stderr += chunk;
          const match = /Please authorize this client by visiting:\s+(\S+)/.exec(stderr);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(new URL(match[1]));
          }
        });
        child.once('exit', (code) =>
          reject(new Error(`mcp-remote exited (${String(code)}):\n${stderr}`)),
        );
      });
      assert.equal(
        `${authorizationUrl.origin}${authorizationUrl.pathname}`,
        `${issuer.url}/authorize`,
      );
      assert.equal(authorizationUrl.searchParams.get('resource'), daemon.url);
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
      const asked = issuer.hits.slice(before);
      assert.ok(asked.includes('/.well-known/oauth-authorization-server'), asked.join());
      assert.ok(asked.includes('POST /register'), asked.join());
    } finally {
      child.kill('SIGKILL');
    }
  });
});
