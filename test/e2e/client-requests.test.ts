/**
 * Server-to-client requests through the router (docs/architecture.md#bridging-the-eras, legacy
 * client and legacy backend): a backend's sampling, elicitation and roots requests reach the
 * client whose call caused them, on that call's stream, and its answers reach the backend. A
 * client that did not declare the capability is never asked, and a request that could belong to
 * either of two sessions is refused instead of reaching the wrong person.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { fixture, startDaemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

/** A client that can be asked everything, answering with its own name in each reply. */
async function askableClient(url: string, name: string): Promise<Client> {
  const client = new Client(
    { name, version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    const content = request.params.messages[0]?.content;
    const prompt = content && 'text' in content ? content.text : '';
    return {
      role: 'assistant',
      content: { type: 'text', text: `${name} sampled: ${prompt}` },
      model: 'test',
    };
  });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name } }));
  client.setRequestHandler(ListRootsRequestSchema, () => ({
    roots: [{ uri: `file:///home/${name}`, name }],
  }));
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe('server-to-client requests', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      workers: 2,
      mcpServers: { echo: fixture('echo-server'), other: fixture('echo-server') },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('sampling, elicitation and roots reach the calling client and its answers come back', async () => {
    const client = await askableClient(daemon.url, 'ada');
    try {
      assert.equal(
        textOf(await client.callTool({ name: 'echo__sample', arguments: { prompt: 'hi' } })),
        'ada sampled: hi',
      );
      assert.deepEqual(
        JSON.parse(
          textOf(await client.callTool({ name: 'echo__elicit', arguments: { message: 'Who?' } })),
        ),
        {
          action: 'accept',
          content: { name: 'ada' },
        },
      );
      assert.deepEqual(
        JSON.parse(textOf(await client.callTool({ name: 'other__roots', arguments: {} }))),
        [{ uri: 'file:///home/ada', name: 'ada' }],
      );
    } finally {
      await client.close();
    }
  });

  test('a client that did not declare sampling is not asked; the backend gets an error', async () => {
    const client = new Client({ name: 'plain', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    try {
      const result = await client.callTool({ name: 'echo__sample', arguments: { prompt: 'hi' } });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /did not declare the sampling capability/);
    } finally {
      await client.close();
    }
  });

  test('while two sessions have calls on the backend, its request is refused, not guessed', async () => {
    const busy = await askableClient(daemon.url, 'busy');
    const asker = await askableClient(daemon.url, 'asker');
    try {
      const slow = busy.callTool({ name: 'other__slow', arguments: { ms: 1500 } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await asker.callTool({ name: 'other__sample', arguments: { prompt: 'hi' } });
      assert.equal(refused.isError, true);
      assert.match(
        textOf(refused),
        /cannot tell which client to send sampling\/createMessage to: calls from 2 client sessions/,
      );
      await slow;
      // Alone again, the same request goes through to the right client.
      assert.equal(
        textOf(await asker.callTool({ name: 'other__sample', arguments: { prompt: 'x' } })),
        'asker sampled: x',
      );
    } finally {
      await busy.close();
      await asker.close();
    }
  });
});
