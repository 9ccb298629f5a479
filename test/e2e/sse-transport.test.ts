/**
 * The deprecated HTTP+SSE transport (2024-11-05), as older clients use it: the SDK's
 * `SSEClientTransport` opens GET /sse, learns the POST endpoint from the first event, and
 * gets every answer, notification and server-to-client request down the stream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import { progressTokensOf, textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

async function sessionCount(daemon: Daemon): Promise<number> {
  const body = (await (await fetch(`${daemon.base}/api/sessions`)).json()) as {
    sessions: unknown[];
  };
  return body.sessions.length;
}

describe('HTTP+SSE transport', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({ mcpServers: { echo: fixture('echo-server') } });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('an SDK client over /sse lists, calls, gets progress and is asked for a sample', async () => {
    const client = new Client(
      { name: 'sse-client', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      content: { type: 'text', text: 'from the sse client' },
      model: 'test',
    }));
    await client.connect(new SSEClientTransport(new URL(`${daemon.base}/sse`)));
    try {
      const tools = await client.listTools();
      assert.ok(tools.tools.some((t) => t.name === 'echo__echo'));
      assert.equal(
        textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'old but gold' } })),
        'old but gold',
      );

      const tokens = await progressTokensOf(client, 'echo__progress', { steps: 2 }, 'sse-token');
      assert.deepEqual(tokens, ['sse-token', 'sse-token']);

      assert.equal(
        textOf(await client.callTool({ name: 'echo__sample', arguments: { prompt: 'x' } })),
        'from the sse client',
      );
      assert.equal(await sessionCount(daemon), 1);
    } finally {
      await client.close();
    }
    await eventually(
      async () => ((await sessionCount(daemon)) === 0 ? true : undefined),
      5000,
      'the session to end with its stream',
    );
  });

  test('POST /messages without a session id is 400, with an unknown one 404', async () => {
    const post = (query: string): Promise<Response> =>
      fetch(`${daemon.base}/messages${query}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    assert.equal((await post('')).status, 400);
    assert.equal((await post('?sessionId=nope')).status, 404);
  });

  test('a foreign Origin is refused on /sse too', async () => {
    const response = await fetch(`${daemon.base}/sse`, {
      headers: { Origin: 'http://evil.example.com' },
    });
    assert.equal(response.status, 403);
  });
});
