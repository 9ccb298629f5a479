/**
 * The dual-era fixture (test/fixtures/dual-era-server.ts) over stdio, driven by the SDK v2
 * client: a client that opens with `server/discover` gets the 2026-07-28 era, one that opens
 * with `initialize` gets the session era, and the same tools behave as each era expects
 * (`input_required` results on 2026-07-28, real server-to-client requests in a session).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client, ProtocolError } from '@modelcontextprotocol/client';
import type {
  CallToolRequest,
  ClientOptions,
  VersionNegotiationMode,
} from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { textOf } from '../helpers/mcp.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/dual-era-server.js', import.meta.url));

/** The wire shape of an `input_required` result, which the client's types keep hidden. */
interface InputRequiredWire {
  resultType?: string;
  inputRequests?: Record<string, { method: string; params?: Record<string, unknown> }>;
  requestState?: string;
}

const openClients: Client[] = [];
after(async () => {
  await Promise.allSettled(openClients.map((client) => client.close()));
});

async function connect(mode: VersionNegotiationMode, options: ClientOptions = {}): Promise<Client> {
  const client = new Client(
    { name: 'dual-era-fixture-test', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} }, versionNegotiation: { mode }, ...options },
  );
  client.setRequestHandler('sampling/createMessage', (request) => ({
    role: 'assistant',
    content: {
      type: 'text',
      text: `echo of ${JSON.stringify(request.params.messages[0]?.content)}`,
    },
    model: 'test-model',
  }));
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [FIXTURE], stderr: 'ignore' }),
  );
  openClients.push(client);
  return client;
}

/**
 * The retry of a confirm call: same name and arguments (the client gives it a new id), the
 * answer, and the state echoed. Both are wire-only members the client's types do not declare.
 */
function retryOf(name: string, requestState: string): CallToolRequest['params'] {
  const inputResponses = { confirm: { action: 'accept', content: { ok: true } } };
  const params: Record<string, unknown> = { name, arguments: {}, inputResponses, requestState };
  return params as CallToolRequest['params'];
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

describe('dual-era fixture over stdio', () => {
  it('serves the 2026-07-28 era to a client that opens with server/discover', async () => {
    const client = await connect('auto');
    assert.equal(client.getProtocolEra(), 'modern');
    const names = await toolNames(client);
    for (const name of [
      'test_simple_text',
      'test_missing_capability',
      'test_trigger_tool_change',
    ]) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
    assert.equal(textOf(result), 'This is a simple text response for testing.');
  });

  it('answers input_required with sealed requestState, and refuses it tampered', async () => {
    const client = await connect({ pin: '2026-07-28' }, { inputRequired: { autoFulfill: false } });
    assert.equal(client.getProtocolEra(), 'modern');
    const name = 'test_input_required_result_request_state';
    const first = (await client.callTool(
      { name, arguments: {} },
      { allowInputRequired: true },
    )) as InputRequiredWire;
    assert.equal(first.resultType, 'input_required');
    assert.equal(first.inputRequests?.['confirm']?.method, 'elicitation/create');
    assert.equal(typeof first.requestState, 'string');

    const state = first.requestState ?? '';
    assert.match(textOf(await client.callTool(retryOf(name, state))), /^state-ok/);
    await assert.rejects(
      client.callTool(retryOf(name, `${state}x`)),
      (error: unknown) => error instanceof ProtocolError && error.code === -32602,
    );
  });

  it('delivers a triggered tools/list_changed on an open listen subscription', async () => {
    const client = await connect({ pin: '2026-07-28' });
    const changes: unknown[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', (n) => void changes.push(n));
    const subscription = await client.listen({ toolsListChanged: true });
    try {
      await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
      const deadline = Date.now() + 2000;
      while (changes.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(changes.length, 1);
    } finally {
      await subscription.close();
    }
  });

  it('serves the session era to a client that opens with initialize', async () => {
    const client = await connect('legacy');
    assert.equal(client.getProtocolEra(), 'legacy');
    const names = await toolNames(client);
    for (const name of ['test_sampling', 'test_tool_with_logging', 'test_elicitation']) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    // In a session the same tool asks through a real sampling/createMessage request.
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
    assert.equal(textOf(result), 'LLM response: echo of {"type":"text","text":"hi"}');
  });
});
