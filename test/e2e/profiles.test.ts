/**
 * Profiles and tokens end to end: two profiles with their own tokens see different tools and
 * cannot reach each other's by any name, on any path (calls, prompts, completions, reads,
 * subscriptions); the 401/403/404 answers; `requireToken`; a meta profile driven by an SDK
 * client, with `search_tools` over 240 fixture tools.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

const TOKEN_A = 'token-for-profile-a-0123456789';
const TOKEN_B = 'token-for-profile-b-0123456789';
const TOKEN_META = 'token-for-the-meta-profile-0123';

async function connect(
  daemon: Daemon,
  options: { path?: string; headers?: Record<string, string> } = {},
): Promise<Client> {
  const client = new Client({ name: 'profiles-e2e', version: '1.0.0' });
  const url = new URL(`${daemon.base}${options.path ?? '/mcp'}`);
  await client.connect(
    new StreamableHTTPClientTransport(url, { requestInit: { headers: options.headers ?? {} } }),
  );
  return client;
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** Every tool name, over every page. */
async function names(client: Client): Promise<string[]> {
  const all: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    all.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return all.sort();
}

/** A raw initialize, to see the HTTP status and body a refused client gets. */
async function initialize(
  daemon: Daemon,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { error?: { message: string } }; auth: string | null }> {
  const response = await fetch(`${daemon.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  return { status: response.status, body, auth: response.headers.get('www-authenticate') };
}

describe('two profiles with their own tokens', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: {
        a: { servers: ['alpha'], tools: { deny: ['*fail*'], rename: { alpha__echo: 'say' } } },
        b: { servers: ['beta'], prompts: { deny: ['*'] } },
      },
      tokens: {
        alice: { token: TOKEN_A, profile: 'a' },
        bob: { token: TOKEN_B, profile: 'b' },
      },
    });
  });
  after(() => daemon.stop());

  test('each token sees its own profile, by Authorization or X-Workspace-Token', async () => {
    const a = await connect(daemon, { headers: bearer(TOKEN_A) });
    const b = await connect(daemon, { path: '/mcp/b', headers: { 'X-Workspace-Token': TOKEN_B } });
    const aTools = await names(a);
    const bTools = await names(b);
    assert.ok(aTools.includes('say') && !aTools.includes('alpha__echo'), aTools.join());
    assert.ok(aTools.every((n) => !n.startsWith('beta__') && !n.includes('fail')));
    assert.ok(bTools.includes('beta__echo') && bTools.every((n) => n.startsWith('beta__')));
    assert.equal(textOf(await a.callTool({ name: 'say', arguments: { text: 'hi' } })), 'hi');
    assert.deepEqual((await b.listPrompts()).prompts, []);
    assert.ok(!daemon.stderr().includes(TOKEN_A) && !daemon.stderr().includes(TOKEN_B));
    await Promise.all([a.close(), b.close()]);
  });

  test("neither reaches the other's tools, prompts, resources or completions by any name", async () => {
    const a = await connect(daemon, { headers: bearer(TOKEN_A) });
    const b = await connect(daemon, { headers: bearer(TOKEN_B) });
    const unknown = async (client: Client, name: string): Promise<string> => {
      const error = await client.callTool({ name, arguments: { text: 'x' } }).then(
        () => assert.fail(`${name} was callable`),
        (e: Error) => e,
      );
      return error.message.replace(name, '<name>');
    };
    // Denied (another profile's, renamed away, denied by glob) and unknown read alike.
    const nobody = await unknown(a, 'no_such_tool');
    assert.match(nobody, /Unknown tool: <name>/);
    for (const name of ['beta__echo', 'echo', 'alpha__echo', 'alpha__fail'])
      assert.equal(await unknown(a, name), nobody);
    for (const name of ['alpha__echo', 'say', 'echo']) assert.equal(await unknown(b, name), nobody);

    const promptError = (client: Client, name: string) =>
      client.getPrompt({ name, arguments: { name: 'x' } }).then(
        () => assert.fail(`${name} was readable`),
        (e: Error) => e.message.replace(name, '<name>'),
      );
    assert.equal(await promptError(b, 'beta__greet'), await promptError(b, 'nothing'));
    assert.equal(await promptError(b, 'alpha__greet'), await promptError(b, 'nothing'));
    const completion = (client: Client, name: string) =>
      client
        .complete({ ref: { type: 'ref/prompt', name }, argument: { name: 'name', value: 'a' } })
        .then(
          () => 'completed',
          (e: Error) => e.message.replace(name, '<name>'),
        );
    assert.equal(await completion(b, 'alpha__greet'), await completion(b, 'nothing'));
    assert.equal(await completion(a, 'alpha__greet'), 'completed');

    // Both fixtures serve echo://static; alpha (first in the config) owns it.
    const readError = (client: Client, uri: string) =>
      client.readResource({ uri }).then(
        () => 'read',
        (e: Error) => e.message.replace(uri, '<uri>'),
      );
    assert.equal(await readError(a, 'echo://static'), 'read');
    assert.equal(await readError(b, 'echo://static'), await readError(b, 'echo://nothing'));
    assert.equal(await readError(b, 'echo://item/1'), await readError(b, 'echo://nothing'));
    const subscribeError = (client: Client, uri: string) =>
      client.subscribeResource({ uri }).then(
        () => 'subscribed',
        (e: Error) => e.message.replace(uri, '<uri>'),
      );
    assert.equal(await subscribeError(b, 'echo://static'), await subscribeError(b, 'echo://no'));
    assert.equal(await subscribeError(a, 'echo://static'), 'subscribed');
    await Promise.all([a.close(), b.close()]);
  });

  test('401 for a missing or wrong token, 403 for a token on another profile, 404 for no profile', async () => {
    const noToken = await initialize(daemon, '/mcp/a');
    assert.equal(noToken.status, 401);
    assert.match(noToken.body.error!.message, /profile 'a' requires one of its tokens/);
    assert.match(noToken.auth ?? '', /^Bearer/);
    const wrong = await initialize(daemon, '/mcp', bearer('not-a-token-anyone-has-000'));
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error!.message, /not one this MCP Director knows/);
    const foreign = await initialize(daemon, '/mcp/b', bearer(TOKEN_A));
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error!.message, /token 'alice' is for profile 'a', not 'b'/);
    const missing = await initialize(daemon, '/mcp/nope');
    assert.equal(missing.status, 404);
    assert.match(missing.body.error!.message, /Unknown profile 'nope'/);
    // The default profile has no token of its own here: open, and it sees everything.
    assert.equal((await initialize(daemon, '/mcp')).status, 200);
    // The SDK client surfaces the 401 as a failed connect, not a hang.
    await assert.rejects(connect(daemon, { path: '/mcp/a' }), /401|Unauthorized/);
  });

  test('a session cannot be carried over to another profile', async () => {
    const a = await connect(daemon, { headers: bearer(TOKEN_A) });
    const sessionId = (a.transport as StreamableHTTPClientTransport).sessionId!;
    const response = await fetch(`${daemon.base}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        ...bearer(TOKEN_B),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /belongs to profile 'a'/);
    await a.close();
  });

  test('the HTTP+SSE transport applies the same tokens', async () => {
    const client = new Client({ name: 'sse', version: '1' });
    const headers = bearer(TOKEN_B);
    await client.connect(
      new SSEClientTransport(new URL(`${daemon.base}/sse`), {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...headers } }),
        },
      }),
    );
    assert.ok((await names(client)).every((n) => n.startsWith('beta__')));
    await client.close();
    const refused = await fetch(`${daemon.base}/sse/a`, {
      headers: { accept: 'text/event-stream' },
    });
    assert.equal(refused.status, 401);
  });
});

describe('requireToken', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: { alpha: fixture('echo-server', ['--label', 'alpha']) },
      tokens: { ops: { token: TOKEN_A } },
      requireToken: true,
    });
  });
  after(() => daemon.stop());

  test('every request needs a valid token; /healthz stays open for probes', async () => {
    assert.equal((await initialize(daemon, '/mcp')).status, 401);
    assert.match((await initialize(daemon, '/mcp')).body.error!.message, /requires a token/);
    assert.equal((await fetch(`${daemon.base}/api/servers`)).status, 401);
    assert.equal((await fetch(`${daemon.base}/healthz`)).status, 200);
    const api = await fetch(`${daemon.base}/api/tools`, { headers: bearer(TOKEN_A) });
    assert.equal(api.status, 200);
    const client = await connect(daemon, { headers: bearer(TOKEN_A) });
    assert.ok((await names(client)).includes('alpha__echo'));
    await client.close();
  });
});

describe('meta tool surface', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        tools: fixture('many-tools-server'),
        echo: fixture('echo-server'),
      },
      profiles: { agent: { toolSurface: 'meta', tools: { deny: ['echo__fail'] } } },
      tokens: { agent: { token: TOKEN_META, profile: 'agent' } },
    });
  });
  after(() => daemon.stop());

  test('an SDK client lists five router tools, searches, describes and calls through them', async () => {
    const client = await connect(daemon, { path: '/mcp/agent', headers: bearer(TOKEN_META) });
    assert.deepEqual(await names(client), [
      'call',
      'describe',
      'list_servers',
      'list_tools',
      'search_tools',
    ]);
    const servers = await client.callTool({ name: 'list_servers', arguments: {} });
    assert.match(textOf(servers), /tools/);
    assert.match(textOf(servers), /echo/);

    const listed = await client.callTool({ name: 'list_tools', arguments: {} });
    const count = (listed.structuredContent as { tools: unknown[] }).tools.length;
    assert.ok(count >= 240, `list_tools returned ${count}`);
    assert.ok(!textOf(listed).includes('echo__fail'));

    const found = await client.callTool({
      name: 'search_tools',
      arguments: { query: 'open a pull request', limit: 3 },
    });
    const hits = (found.structuredContent as { hits: { name: string }[] }).hits;
    assert.match(hits[0]!.name, /create_pull_request/);

    const described = await client.callTool({
      name: 'describe',
      arguments: { name: 'echo__echo' },
    });
    assert.match(textOf(described), /inputSchema|"text"/);

    const called = await client.callTool({
      name: 'call',
      arguments: { name: 'echo__echo', arguments: { text: 'through meta' } },
    });
    assert.equal(textOf(called), 'through meta');
    const direct = await client.callTool({ name: 'echo__echo', arguments: { text: 'direct' } });
    assert.equal(textOf(direct), 'direct');

    // Denied reads like unknown, through `call` and `describe` too.
    const denied = await client.callTool({
      name: 'call',
      arguments: { name: 'echo__fail', arguments: {} },
    });
    const unknown = await client.callTool({
      name: 'call',
      arguments: { name: 'echo__nothing', arguments: {} },
    });
    assert.equal(denied.isError, true);
    assert.equal(
      textOf(denied).replace('echo__fail', '<name>'),
      textOf(unknown).replace('echo__nothing', '<name>'),
    );
    await client.close();
  });

  test('the default profile still lists every tool in full', async () => {
    const client = await connect(daemon);
    const all = await names(client);
    assert.ok(all.length >= 240 && all.includes('echo__fail'));
    await client.close();
  });
});
