/**
 * Access on every surface of /api, driven over raw HTTP against the daemon started from its
 * CLI: two profile tokens each see their own profile only, on every endpoint, and nothing
 * that names how a server runs (commands, arguments, URLs, env, error text) or another
 * profile's sessions; the admin token sees everything; `/.well-known/*` is 404 whatever the
 * token state, so OAuth-capable clients do not start a sign-in that can never finish.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

const ALICE = 'alice-token-for-profile-a-0123';
const BOB = 'bob-token-for-profile-b-012345';
const ROOT = 'root-admin-token-0123456789ab';
const SECRET_ENV = 'secret-env-value-do-not-show';
/** Nothing listens there: the server fails, and its URL must still never reach a profile. */
const GAMMA_URL = 'http://127.0.0.1:9/private-gamma-path';

const ENDPOINTS = [
  '/api/health',
  '/api/servers',
  '/api/tools',
  '/api/profiles',
  '/api/sessions',
  '/api/stats',
  '/api/calls',
];

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

async function get(
  daemon: Daemon,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${daemon.base}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

async function connect(daemon: Daemon, token: string): Promise<{ client: Client; id: string }> {
  const client = new Client({ name: `api-access-${token.slice(0, 5)}`, version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(daemon.url), {
    requestInit: { headers: bearer(token) },
  });
  await client.connect(transport);
  return { client, id: transport.sessionId! };
}

describe('/api with two profile tokens and an admin token', () => {
  let daemon: Daemon;
  const clients: Client[] = [];
  let sessionA: string;
  let sessionB: string;

  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: {
          ...fixture('echo-server', ['--label', 'alpha'], { env: { SECRET: SECRET_ENV } }),
          recordPayloads: true,
        },
        beta: fixture('echo-server', ['--label', 'beta']),
        gamma: { url: GAMMA_URL, headers: { Authorization: 'Bearer header-secret-0123' } },
      },
      profiles: {
        a: { servers: ['alpha'] },
        b: { servers: ['beta', 'gamma'] },
        ops: {},
      },
      tokens: {
        alice: { token: ALICE, profile: 'a' },
        bob: { token: BOB, profile: 'b' },
        root: { token: ROOT, profile: 'ops', admin: true },
      },
    });
    const a = await connect(daemon, ALICE);
    const b = await connect(daemon, BOB);
    clients.push(a.client, b.client);
    sessionA = a.id;
    sessionB = b.id;
    await a.client.callTool({ name: 'alpha__echo', arguments: { text: 'from a' } });
    await b.client.callTool({ name: 'beta__echo', arguments: { text: 'from b' } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await daemon.stop();
  });

  test('each profile token sees only its profile on every endpoint, and no server internals', async () => {
    const cases = [
      { token: ALICE, profile: 'a', own: ['alpha'], others: ['beta', 'gamma'], session: sessionA },
      { token: BOB, profile: 'b', own: ['beta', 'gamma'], others: ['alpha'], session: sessionB },
    ];
    // Rollups are written by the shards once a second: wait until both calls are in.
    await eventually(async () => {
      const all = (await get(daemon, '/api/stats', bearer(ROOT))).body as {
        total: { calls: number };
      };
      return all.total.calls >= 2 ? true : undefined;
    });
    for (const { token, profile, own, others, session } of cases) {
      for (const path of ENDPOINTS) {
        const { status, text } = await get(daemon, path, bearer(token));
        assert.equal(status, 200, `${profile} ${path}: ${text}`);
        for (const secret of [
          process.execPath,
          'echo-server.js',
          'dist/test/fixtures',
          GAMMA_URL,
          '127.0.0.1:9',
          'header-secret',
          SECRET_ENV,
          sessionA,
          sessionB,
          'config.json',
          ...others.map((id) => `"${id}"`),
          ...others.map((id) => `${id}__`),
        ]) {
          assert.ok(!text.includes(secret), `${profile} ${path} shows ${secret}: ${text}`);
        }
        // Nor the token values, nor other tokens' names.
        for (const name of [ALICE, BOB, ROOT, '"root"', '"alice"', '"bob"']) {
          assert.ok(!text.includes(name), `${profile} ${path} shows ${name}`);
        }
      }
      const servers = (await get(daemon, '/api/servers', bearer(token))).body as {
        servers: { id: string; state: string }[];
      };
      assert.deepEqual(
        servers.servers.map((s) => s.id),
        own,
      );
      assert.ok(servers.servers.every((s) => typeof s.state === 'string'));
      const health = (await get(daemon, '/api/health', bearer(token))).body as {
        profile: string;
        servers: Record<string, unknown>;
        sessions: number;
      };
      assert.equal(health.profile, profile);
      assert.deepEqual(Object.keys(health.servers), own);
      assert.equal(health.sessions, 1);
      const tools = (await get(daemon, '/api/tools', bearer(token))).body as {
        profile: string;
        tools: { server: string }[];
      };
      assert.equal(tools.profile, profile);
      assert.ok(tools.tools.length > 0 && tools.tools.every((t) => own.includes(t.server)));
      const foreign = await get(
        daemon,
        `/api/tools?profile=${profile === 'a' ? 'b' : 'a'}`,
        bearer(token),
      );
      assert.equal(foreign.status, 403);
      assert.match(String(foreign.body['error']), new RegExp(`sees profile '${profile}' only`));
      const profiles = (await get(daemon, '/api/profiles', bearer(token))).body as {
        profiles: { name: string; tokens?: unknown }[];
      };
      assert.deepEqual(
        profiles.profiles.map((p) => [p.name, p.tokens]),
        [[profile, undefined]],
      );
      const sessions = (await get(daemon, '/api/sessions', bearer(token))).body as {
        sessions: { profile: string; id?: string }[];
      };
      assert.equal(sessions.sessions.length, 1);
      assert.equal(sessions.sessions[0]!.profile, profile);
      assert.ok(!('id' in sessions.sessions[0]!), 'no session id');
      assert.ok(!JSON.stringify(sessions).includes(session), 'not even its own session id');
      const stats = (await get(daemon, '/api/stats', bearer(token))).body as {
        total: { calls: number };
        servers: { server: string }[];
        profiles: { profile: string }[];
      };
      assert.equal(stats.total.calls, 1);
      assert.deepEqual(
        stats.servers.map((s) => s.server),
        [own[0]],
      );
      assert.deepEqual(
        stats.profiles.map((p) => p.profile),
        [profile],
      );
    }
  });

  test('the admin token sees every profile, server commands and URLs, session ids and all stats', async () => {
    const servers = (await get(daemon, '/api/servers', bearer(ROOT))).body as {
      servers: { id: string; command?: string; url?: string; state: string; error?: string }[];
    };
    assert.deepEqual(
      servers.servers.map((s) => s.id),
      ['alpha', 'beta', 'gamma'],
    );
    assert.equal(servers.servers[0]!.command, process.execPath);
    assert.equal(servers.servers[2]!.url, GAMMA_URL);
    assert.equal(servers.servers[2]!.state, 'failed');
    assert.ok(typeof servers.servers[2]!.error === 'string', 'the admin sees why it failed');
    const text = JSON.stringify(servers);
    assert.ok(
      !text.includes(SECRET_ENV) && !text.includes('header-secret'),
      'never env or headers',
    );
    const profiles = (await get(daemon, '/api/profiles', bearer(ROOT))).body as {
      profiles: { name: string; tokens: string[] }[];
    };
    assert.deepEqual(profiles.profiles.map((p) => [p.name, p.tokens]).sort(), [
      ['a', ['alice']],
      ['b', ['bob']],
      ['default', []],
      ['ops', ['root']],
    ]);
    const sessions = (await get(daemon, '/api/sessions', bearer(ROOT))).body as {
      sessions: { id: string }[];
    };
    assert.deepEqual(sessions.sessions.map((s) => s.id).sort(), [sessionA, sessionB].sort());
    const stats = (await get(daemon, '/api/stats', bearer(ROOT))).body as {
      total: { calls: number };
    };
    assert.equal(stats.total.calls, 2);
    const health = (await get(daemon, '/api/health', bearer(ROOT))).body as {
      servers: Record<string, unknown>;
      config: { source: string };
    };
    assert.deepEqual(Object.keys(health.servers), ['alpha', 'beta', 'gamma']);
    assert.match(health.config.source, /config\.json$/);
    const b = (await get(daemon, '/api/tools?profile=b', bearer(ROOT))).body as { profile: string };
    assert.equal(b.profile, 'b');
  });

  test('/api/calls: recent calls with error texts; a profile sees its own without session ids', async () => {
    await clients[0]!.callTool({ name: 'alpha__fail', arguments: {} });
    type Calls = {
      calls: { target: string; session?: string; status: string; error?: string }[];
      next?: string;
    };
    const failed = await eventually(async () => {
      const page = (await get(daemon, '/api/calls?status=error', bearer(ROOT))).body as Calls;
      return page.calls.length > 0 ? page : undefined;
    });
    assert.deepEqual(
      failed.calls.map((c) => [c.target, c.session, c.error]),
      [['fail', sessionA, 'boom']],
    );
    const all = (await get(daemon, '/api/calls', bearer(ROOT))).body as Calls;
    assert.deepEqual(
      all.calls.map((c) => c.target),
      ['fail', 'echo', 'echo'],
    );
    const firstPage = (await get(daemon, '/api/calls?limit=1', bearer(ROOT))).body as Calls;
    assert.equal(firstPage.calls.length, 1);
    const rest = (await get(daemon, `/api/calls?cursor=${firstPage.next}`, bearer(ROOT)))
      .body as Calls;
    assert.equal(rest.calls.length, 2);
    // Payloads for alpha (recordPayloads), shown to the admin only; none for beta.
    type Payloads = { calls: { server: string; request?: string; response?: string }[] };
    const withPayloads = (await get(daemon, '/api/calls', bearer(ROOT))).body as Payloads;
    const echoA = withPayloads.calls.find(
      (c) => c.server === 'alpha' && c.request?.includes('from a'),
    );
    assert.ok(echoA?.response?.includes('from a'), JSON.stringify(withPayloads));
    assert.ok(
      withPayloads.calls.filter((c) => c.server === 'beta').every((c) => c.request === undefined),
    );
    const alices = (await get(daemon, '/api/calls', bearer(ALICE))).body as Payloads;
    assert.ok(
      alices.calls.length > 0 &&
        alices.calls.every((c) => c.request === undefined && c.response === undefined),
    );
    const bobs = (await get(daemon, '/api/calls', bearer(BOB))).body as Calls;
    assert.deepEqual(
      bobs.calls.map((c) => [c.target, 'session' in c]),
      [['echo', false]],
    );
    type Stats = {
      total: { calls: number; errors: number };
      series: { points: unknown[] };
      errors: { tool: string; code: number | null; count: number }[];
    };
    // Rollups are written once a second.
    const stats = await eventually(async () => {
      const path = '/api/stats?since=1h&tool=fail&bucket=minute';
      const body = (await get(daemon, path, bearer(ROOT))).body as Stats;
      return body.total.calls > 0 ? body : undefined;
    });
    assert.deepEqual([stats.total.calls, stats.total.errors], [1, 1]);
    assert.ok(stats.series.points.length >= 1);
    // A tool's own failure has no JSON-RPC code: it is counted under null.
    assert.deepEqual(stats.errors, [
      { server: 'alpha', tool: 'fail', method: 'tools/call', code: null, count: 1 },
    ]);
    for (const [path, expected] of [
      ['/api/calls?limit=0', /'limit' must be 1 to 500/],
      ['/api/calls?status=weird', /'status' must be ok, error, timeout or cancelled/],
      ['/api/calls?cursor=forged', /cursor is not one this daemon handed out/],
      ['/api/stats?since=yesterday', /'since' must be ms since the epoch/],
      ['/api/stats?since=999999999999d', /'since' must be ms since the epoch/],
      [`/api/calls?until=${'9'.repeat(400)}`, /'until' must be .*got '9{40}…'$/],
      ['/api/stats?bucket=week', /'bucket' must be minute, hour or day/],
      ['/api/stats?since=30d&bucket=minute', /would be 43200 points/],
    ] as const) {
      const { status, body } = await get(daemon, path, bearer(ROOT));
      assert.equal(status, 400, path);
      assert.match(String(body.error), expected, path);
    }
  });

  test('without a token: the default profile view (no internals); a wrong token: 401', async () => {
    const servers = await get(daemon, '/api/servers');
    assert.equal(servers.status, 200);
    assert.deepEqual(
      (servers.body as { servers: { id: string }[] }).servers.map((s) => s.id),
      ['alpha', 'beta', 'gamma'],
    );
    assert.ok(!servers.text.includes(process.execPath) && !servers.text.includes(GAMMA_URL));
    const sessions = await get(daemon, '/api/sessions');
    assert.deepEqual((sessions.body as { sessions: unknown[] }).sessions, []);
    const wrong = await get(daemon, '/api/servers', bearer('not-a-token-of-this-daemon-0'));
    assert.equal(wrong.status, 401);
    const healthz = await get(daemon, '/healthz');
    assert.deepEqual(healthz.body, { status: 'degraded' });
  });

  test('/.well-known/* is 404 with a JSON body, with and without a token', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/mcp',
      '/.well-known/openid-configuration',
    ]) {
      for (const headers of [{}, bearer(ALICE), bearer('not-a-token-of-this-daemon-0')]) {
        const { status, body } = await get(daemon, path, headers);
        assert.equal(status, 404, path);
        assert.match(String(body['error']), /no OAuth authorization server/);
      }
    }
  });
});

describe('/.well-known with requireToken', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: { alpha: fixture('echo-server') },
      tokens: { ops: { token: ALICE } },
      requireToken: true,
    });
  });
  after(() => daemon.stop());

  test('is 404, not 401: a 401 there would make an OAuth client start a sign-in', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-authorization-server',
    ]) {
      const response = await fetch(`${daemon.base}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(response.headers.get('www-authenticate'), null);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    }
    // The API itself still wants the token; a token without admin sees its profile.
    assert.equal((await fetch(`${daemon.base}/api/servers`)).status, 401);
    const servers = await get(daemon, '/api/servers', bearer(ALICE));
    assert.equal(servers.status, 200);
    assert.ok(!servers.text.includes(process.execPath));
  });
});
