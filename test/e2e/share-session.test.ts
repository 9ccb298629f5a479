/**
 * `"share": "session"`: each client session gets its own process of the server, started on
 * its first call and stopped when the session ends, so stateful servers do not mix
 * clients' state and a server's requests (sampling…) always reach the right client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { alive, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

async function connect(
  url: string,
  name: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    content: { type: 'text', text: `answered by ${name}` },
    model: 'test',
  }));
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

describe('share: session', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      workers: 2,
      mcpServers: {
        mine: fixture('echo-server', [], { share: 'session' }),
        proc: fixture('crash-server', [], { share: 'session' }),
        shared: fixture('echo-server'),
      },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('each session has its own process and state; a global server is one for all', async () => {
    const a = await connect(daemon.url, 'a');
    const b = await connect(daemon.url, 'b');
    try {
      // The catalog is there before any session started an instance.
      const tools = (await a.client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('mine__bump') && tools.includes('proc__pid'));

      const bump = async (c: Client, name: string): Promise<string> =>
        textOf(await c.callTool({ name, arguments: {} }));
      assert.deepEqual(
        [await bump(a.client, 'mine__bump'), await bump(a.client, 'mine__bump')],
        ['1', '2'],
      );
      assert.equal(await bump(b.client, 'mine__bump'), '1', "b's instance has its own counter");
      assert.deepEqual(
        [await bump(a.client, 'shared__bump'), await bump(b.client, 'shared__bump')],
        ['1', '2'],
      );

      const pidA = Number(await bump(a.client, 'proc__pid'));
      const pidB = Number(await bump(b.client, 'proc__pid'));
      const health = (await (await fetch(`${daemon.base}/api/health`)).json()) as {
        servers: Record<string, { pid?: number; state: string }>;
      };
      const catalogPid = health.servers['proc']?.pid;
      assert.equal(health.servers['proc']?.state, 'ready');
      assert.equal(
        new Set([pidA, pidB, catalogPid]).size,
        3,
        'three processes: a, b, and the catalog instance',
      );

      // Ending a's session stops a's processes only.
      await a.transport.terminateSession();
      await eventually(() => (alive(pidA) ? undefined : true), 10_000, "a's process to stop");
      assert.ok(alive(pidB));
      assert.equal(await bump(b.client, 'mine__bump'), '2');
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  test("a session's own instance can always ask its client, even while others are busy", async () => {
    const busy = await connect(daemon.url, 'busy');
    const asker = await connect(daemon.url, 'asker');
    try {
      const slow = busy.client.callTool({ name: 'mine__slow', arguments: { ms: 1500 } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const sampled = await asker.client.callTool({
        name: 'mine__sample',
        arguments: { prompt: 'x' },
      });
      assert.equal(textOf(sampled), 'answered by asker');
      await slow;
    } finally {
      await busy.client.close();
      await asker.client.close();
    }
  });
});
