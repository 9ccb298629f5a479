/**
 * MCP Director end to end, as a user runs it: the daemon started from its CLI with a
 * config of real stdio fixture servers spread over two shards, and the official SDK's v1
 * and v2 `Client`s talking Streamable HTTP to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import { progressTokensOf, textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

const CONFIG = {
  workers: 2,
  pageSize: 10,
  mcpServers: {
    echo: fixture('echo-server', ['--label', 'echo']),
    second: fixture('echo-server', ['--label', 'second'], { prefix: 'custom' }),
    paged: fixture('paged-server', ['--tools', '25', '--page', '7'], { prefix: '' }),
    first: fixture('echo-server', ['--label', 'first'], { prefix: '' }),
    clash: fixture('echo-server', ['--label', 'clash'], { prefix: '' }),
  },
};

let daemon: Daemon;
let client: Client;

async function connectV1(name = 'e2e-v1'): Promise<Client> {
  const c = new Client({ name, version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
  return c;
}

async function listAllTools(c: Client): Promise<{ tools: Tool[]; pages: number }> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await c.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 50);
  return { tools, pages };
}

describe('MCP Director end to end', () => {
  before(async () => {
    daemon = await startDaemon(CONFIG);
    client = await connectV1();
  });

  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  test('backends are spread over two shards', async () => {
    const body = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; shard: number; state: string }>;
    };
    assert.deepEqual(new Set(body.servers.map((s) => s.shard)), new Set([0, 1]));
    assert.ok(
      body.servers.every((s) => s.state === 'ready'),
      JSON.stringify(body.servers),
    );
  });

  test('lists every backend tool under its exposed name, page by page', async () => {
    const { tools, pages } = await listAllTools(client);
    const names = tools.map((t) => t.name);
    assert.equal(new Set(names).size, names.length, 'no duplicates');
    // Prefix = server id by default, a custom prefix, and no prefix.
    for (const name of [
      'echo__echo',
      'echo__add',
      'custom__echo',
      'custom__whoami',
      'tool_000',
      'tool_024',
      'whoami',
    ]) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    assert.equal(
      names.filter((n) => n.startsWith('tool_')).length,
      25,
      'backend pagination was followed to the end',
    );
    assert.equal(
      pages,
      Math.ceil(names.length / 10),
      'the director pages its own list by pageSize',
    );
    const echo = tools.find((t) => t.name === 'echo__echo');
    assert.equal(echo?.inputSchema.type, 'object', 'schemas pass through');
  });

  test('a name collision keeps the first server in config order and is reported', async () => {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    assert.equal(textOf(result), 'first');
    const body = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      collisions: Array<{ name: string; kept: string; dropped: string }>;
    };
    assert.ok(
      body.collisions.some(
        (c) => c.name === 'whoami' && c.kept === 'first' && c.dropped === 'clash',
      ),
    );
    assert.match(daemon.stderr(), /name collision: tool 'whoami' of server 'clash' is hidden/);
  });

  test('calls reach the right backend across shards', async () => {
    assert.equal(
      textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'hi' } })),
      'hi',
    );
    assert.equal(
      textOf(await client.callTool({ name: 'custom__whoami', arguments: {} })),
      'second',
    );
    assert.equal(textOf(await client.callTool({ name: 'tool_003', arguments: {} })), 'tool_003');
    const sum = await client.callTool({ name: 'echo__add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(sum.structuredContent, { sum: 42 });
    const failed = await client.callTool({ name: 'echo__fail', arguments: {} });
    assert.equal(failed.isError, true, 'isError results pass through');
  });

  test('an unknown tool is a JSON-RPC invalid-params error', async () => {
    await assert.rejects(
      client.callTool({ name: 'nope__nothing', arguments: {} }),
      (error: { code?: number; message?: string }) => {
        assert.equal(error.code, -32602);
        assert.match(String(error.message), /Unknown tool: nope__nothing/);
        return true;
      },
    );
  });

  test('progress arrives with the exact token the client sent', async () => {
    // A client of its own: replacing the progress handler disables the SDK's onprogress.
    const raw = await connectV1('progress-raw');
    const seen = await progressTokensOf(
      raw,
      'echo__progress',
      { steps: 3, delayMs: 5 },
      'my-token-7',
    );
    assert.deepEqual(seen, ['my-token-7', 'my-token-7', 'my-token-7']);
    await raw.close();
    // The SDK's own numeric tokens, with onprogress, round-trip too.
    const steps: number[] = [];
    await client.callTool({ name: 'custom__progress', arguments: { steps: 2 } }, undefined, {
      onprogress: (p) => void steps.push(p.progress),
    });
    assert.deepEqual(steps, [1, 2]);
  });

  test('cancellation reaches the backend', async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'echo__slow', arguments: { ms: 10_000 } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('changed my mind'), 200);
    await assert.rejects(call);
    const stats = await eventually(
      async () => {
        const s = JSON.parse(
          textOf(await client.callTool({ name: 'echo__stats', arguments: {} })),
        ) as { cancelled: number };
        return s.cancelled >= 1 ? s : undefined;
      },
      5000,
      'the backend to count the cancellation',
    );
    assert.equal(stats.cancelled, 1);
  });

  test('logging: setLevel reaches the backends and messages reach the client', async () => {
    const messages: Array<{ level: string; data: unknown }> = [];
    client.setNotificationHandler(
      LoggingMessageNotificationSchema,
      (n) => void messages.push(n.params),
    );
    await client.setLoggingLevel('warning');
    await client.callTool({
      name: 'echo__log',
      arguments: { level: 'info', message: 'too quiet' },
    });
    await client.callTool({
      name: 'echo__log',
      arguments: { level: 'error', message: 'loud enough' },
    });
    await eventually(
      () => (messages.some((m) => m.data === 'loud enough') ? true : undefined),
      5000,
      'the error log message',
    );
    assert.ok(!messages.some((m) => m.data === 'too quiet'), 'below the level is filtered');
  });

  test('list_changed after a backend adds a tool', async () => {
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await client.callTool({ name: 'custom__add_tool', arguments: { name: 'fresh' } });
    await eventually(() => (changed > 0 ? true : undefined), 5000, 'tools/list_changed');
    const { tools } = await listAllTools(client);
    assert.ok(tools.some((t) => t.name === 'custom__fresh'));
    assert.equal(
      textOf(await client.callTool({ name: 'custom__fresh', arguments: {} })),
      'dynamic fresh',
    );
  });

  test('resources: read, templates, subscribe and updated', async () => {
    const read = await client.readResource({ uri: 'echo://static' });
    assert.equal((read.contents[0] as { text: string }).text, 'static text');
    const item = await client.readResource({ uri: 'echo://item/42' });
    assert.equal((item.contents[0] as { text: string }).text, 'item 42');
    const templates = await client.listResourceTemplates();
    assert.ok(templates.resourceTemplates.some((t) => t.uriTemplate === 'echo://item/{id}'));
    await assert.rejects(
      client.readResource({ uri: 'nowhere://x' }),
      (e: { code?: number }) => e.code === -32002,
    );

    const updated: string[] = [];
    client.setNotificationHandler(
      ResourceUpdatedNotificationSchema,
      (n) => void updated.push(n.params.uri),
    );
    await client.subscribeResource({ uri: 'echo://counter' });
    await client.callTool({ name: 'echo__bump', arguments: {} });
    await eventually(
      () => (updated.includes('echo://counter') ? true : undefined),
      5000,
      'resources/updated',
    );
    await client.unsubscribeResource({ uri: 'echo://counter' });
  });

  test('prompts and completion', async () => {
    const prompts = await client.listPrompts();
    assert.ok(prompts.prompts.some((p) => p.name === 'echo__greet'));
    const prompt = await client.getPrompt({ name: 'echo__greet', arguments: { name: 'Ada' } });
    assert.match(JSON.stringify(prompt.messages), /Hello, Ada!/);
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'echo__greet' },
      argument: { name: 'name', value: 'al' },
    });
    assert.deepEqual(completion.completion.values.sort(), ['albert', 'alice']);
  });

  test('request ids never collide: two sessions with the same ids, calls interleaved', async () => {
    // Both SDK clients number their requests from 0, so equal ids are in flight at once.
    const other = await connectV1('e2e-other');
    try {
      const calls = Array.from({ length: 20 }, (_, i) => [
        client.callTool({ name: 'echo__echo', arguments: { text: `a${i}` } }),
        other.callTool({ name: 'custom__echo', arguments: { text: `b${i}` } }),
      ]).flat();
      const texts = (await Promise.all(calls)).map(textOf);
      assert.deepEqual(texts, Array.from({ length: 20 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    } finally {
      await other.close();
    }
  });

  test('the v2 SDK client lists and calls too', async () => {
    const v2 = new ClientV2({ name: 'e2e-v2', version: '1.0.0' });
    await v2.connect(new TransportV2(new URL(daemon.url)));
    try {
      const tools = await v2.listTools();
      assert.ok(tools.tools.length > 0);
      const result = await v2.callTool({ name: 'echo__echo', arguments: { text: 'from v2' } });
      assert.equal(textOf(result), 'from v2');
    } finally {
      await v2.close();
    }
  });

  test('every forwarded call is recorded and /api/stats aggregates it', async () => {
    for (let i = 0; i < 5; i++)
      await client.callTool({ name: 'custom__echo', arguments: { text: String(i) } });
    const stats = await eventually(
      async () => {
        const body = (await (await fetch(`${daemon.base}/api/stats?server=second`)).json()) as {
          servers: Array<{
            server: string;
            calls: number;
            tools: Array<{ tool: string; calls: number; p50Ms: number }>;
          }>;
        };
        const echo = body.servers[0]?.tools.find((t) => t.tool === 'echo');
        return echo !== undefined && echo.calls >= 5 ? body : undefined;
      },
      5000,
      'analytics records',
    );
    assert.equal(stats.servers.length, 1);
    assert.equal(stats.servers[0]?.server, 'second');
  });
});

describe('HTTP errors', () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon({ maxBodyBytes: 2048, mcpServers: { echo: fixture('echo-server') } });
  });
  after(async () => {
    await d?.stop();
  });

  const post = (body: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(d.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });
  const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  const initialize = async (protocolVersion: string): Promise<string> => {
    const params = { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '0' } };
    const init = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params }),
    );
    assert.equal(init.status, 200);
    return init.headers.get('mcp-session-id') ?? '';
  };

  test('missing session id: 400', async () => {
    const response = await post(list);
    assert.equal(response.status, 400);
    assert.match(
      ((await response.json()) as { error: { message: string } }).error.message,
      /Mcp-Session-Id header is required/,
    );
  });

  test('unknown session id: 404', async () => {
    const response = await post(list, { 'Mcp-Session-Id': 'no-such-session' });
    assert.equal(response.status, 404);
  });

  test('a deleted session: 404', async () => {
    const sessionId = await initialize('2025-11-25');
    assert.ok(sessionId.length >= 16);
    assert.equal((await post(list, { 'Mcp-Session-Id': sessionId })).status, 200);
    const deleted = await fetch(d.url, {
      method: 'DELETE',
      headers: { 'Mcp-Session-Id': sessionId },
    });
    assert.equal(deleted.status, 200);
    assert.equal((await post(list, { 'Mcp-Session-Id': sessionId })).status, 404);
  });

  test('a foreign Origin: 403 (DNS rebinding)', async () => {
    const response = await post(list, { Origin: 'http://evil.example.com' });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /Origin 'http:\/\/evil.example.com' is not allowed/);
  });

  test('an oversized body: 413', async () => {
    const response = await post(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'x', arguments: { text: 'x'.repeat(5000) } },
      }),
    );
    assert.equal(response.status, 413);
  });

  test('malformed JSON: 400 with -32700', async () => {
    const response = await post('{"jsonrpc": "2.0", "id": 1, ');
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: number } }).error.code, -32700);
  });

  test('an unsupported MCP-Protocol-Version: 400', async () => {
    const sessionId = await initialize('2025-11-25');
    const response = await post(list, {
      'Mcp-Session-Id': sessionId,
      'MCP-Protocol-Version': '1999-01-01',
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /unsupported MCP-Protocol-Version '1999-01-01'/);
  });

  test('a 2025-03-26 batch is answered as one array', async () => {
    const sessionId = await initialize('2025-03-26');
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 'b',
        method: 'tools/call',
        params: { name: 'echo__echo', arguments: { text: 'in a batch' } },
      },
    ]);
    const response = await post(batch, { 'Mcp-Session-Id': sessionId });
    assert.equal(response.status, 200);
    const answers = (await response.json()) as Array<{
      id: string;
      result: { content?: Array<{ text: string }> };
    }>;
    assert.deepEqual(answers.map((a) => a.id).sort(), ['a', 'b']);
    assert.equal(answers.find((a) => a.id === 'b')?.result.content?.[0]?.text, 'in a batch');
  });

  test('one GET stream per session (409 for a second); other methods 405', async () => {
    const sessionId = await initialize('2025-11-25');
    const headers = { Accept: 'text/event-stream', 'Mcp-Session-Id': sessionId };
    const controller = new AbortController();
    const first = await fetch(d.url, { headers, signal: controller.signal });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'text/event-stream');
    const second = await fetch(d.url, { headers });
    assert.equal(second.status, 409);
    controller.abort();
    const put = await fetch(d.url, {
      method: 'PUT',
      headers: { 'Mcp-Session-Id': sessionId },
      body: '{}',
    });
    assert.equal(put.status, 405);
  });

  test('notifications are accepted with 202', async () => {
    const sessionId = await initialize('2025-06-18');
    const response = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      { 'Mcp-Session-Id': sessionId },
    );
    assert.equal(response.status, 202);
  });
});
