/**
 * Both protocol eras on one endpoint, and every cell of the bridging table
 * (docs/architecture.md#bridging-the-eras) with real clients and real backends: SDK v1 (session
 * era) and SDK v2 pinned to 2026-07-28 as clients; `echo-server` (SDK v1, session era only) and
 * `dual-era-server` (SDK v2, probed as 2026-07-28) as stdio backends. The legacy × legacy cell
 * is `client-requests.test.ts`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client as ModernClient,
  ProtocolError,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import type { CallToolRequest } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { modernClient as newModernClient, textOf, type InputRequiredWire } from '../helpers/mcp.js';

const opened: Array<{ close(): Promise<void> }> = [];

/** An SDK v2 client speaking 2026-07-28 only (closed after the tests). */
async function modernClient(url: string, autoFulfill: boolean): Promise<ModernClient> {
  const client = await newModernClient(url, autoFulfill);
  opened.push(client);
  return client;
}

/** An SDK v1 (session era) client that can be asked everything. */
async function legacyClient(url: string): Promise<Client> {
  const client = new Client(
    { name: 'legacy-test', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {}, roots: {} } },
  );
  client.setRequestHandler(ElicitRequestSchema, () => ({
    action: 'accept',
    content: { name: 'ada' },
  }));
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    content: { type: 'text', text: 'Paris' },
    model: 'test',
  }));
  client.setRequestHandler(ListRootsRequestSchema, () => ({
    roots: [{ uri: 'file:///work', name: 'work' }],
  }));
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  opened.push(client);
  return client;
}

/** A retry of a call with answers and state, members the SDK's request types do not declare. */
function retry(
  name: string,
  args: Record<string, unknown>,
  inputResponses: Record<string, unknown>,
  requestState: string | undefined,
): CallToolRequest['params'] {
  const params: Record<string, unknown> = { name, arguments: args, inputResponses };
  if (requestState !== undefined) params['requestState'] = requestState;
  return params as CallToolRequest['params'];
}

describe('protocol eras and bridging', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      workers: 2,
      mcpServers: { old: fixture('echo-server'), new: fixture('dual-era-server') },
    });
  });
  after(async () => {
    await Promise.allSettled(opened.map((client) => client.close()));
    await daemon?.stop();
  });

  test('the daemon probes each backend: the SDK v2 fixture speaks 2026-07-28, echo-server does not', async () => {
    const servers = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; protocolVersion?: string }>;
    };
    const versions = Object.fromEntries(servers.servers.map((s) => [s.id, s.protocolVersion]));
    assert.deepEqual(versions, { old: '2025-11-25', new: '2026-07-28' });
  });

  test('a 2026-07-28 client gets the merged catalog with caching hints and serverInfo', async () => {
    const client = await modernClient(daemon.url, true);
    assert.equal(client.getProtocolEra(), 'modern');
    const list = (await client.listTools()) as { tools: Array<{ name: string }> } & Record<
      string,
      unknown
    >;
    const names = list.tools.map((tool) => tool.name);
    assert.ok(names.includes('old__echo') && names.includes('new__test_simple_text'));
    // A legacy backend gives no hint, so the merged list may not be cached.
    assert.equal(list['ttlMs'], 0);
    assert.equal(list['cacheScope'], 'public');
    assert.equal(
      textOf(await client.callTool({ name: 'old__echo', arguments: { text: 'hi' } })),
      'hi',
    );
    assert.equal(
      textOf(await client.callTool({ name: 'new__test_simple_text', arguments: {} })),
      'This is a simple text response for testing.',
    );
  });

  test('2026 client × 2026 backend: input_required and its requestState pass through untouched', async () => {
    const client = await modernClient(daemon.url, false);
    const name = 'new__test_input_required_result_request_state';
    const first = (await client.callTool(
      { name, arguments: {} },
      { allowInputRequired: true },
    )) as InputRequiredWire;
    assert.equal(first.resultType, 'input_required');
    assert.equal(first.inputRequests?.['confirm']?.method, 'elicitation/create');
    assert.ok(first.requestState !== undefined && !first.requestState.startsWith('mcpd1.'));
    const answers = { confirm: { action: 'accept', content: { ok: true } } };
    assert.match(
      textOf(await client.callTool(retry(name, {}, answers, first.requestState))),
      /^state-ok/,
    );
  });

  test('2026 client × legacy backend: the backend asks, the client gets input_required with a sealed state', async () => {
    const client = await modernClient(daemon.url, false);
    const args = { message: 'Who are you?' };
    const first = (await client.callTool(
      { name: 'old__elicit', arguments: args },
      { allowInputRequired: true },
    )) as InputRequiredWire;
    assert.equal(first.resultType, 'input_required');
    const [key, request] = Object.entries(first.inputRequests ?? {})[0] ?? [];
    assert.equal(request?.method, 'elicitation/create');
    assert.equal(request?.params?.['message'], 'Who are you?');
    const state = first.requestState ?? '';
    assert.match(state, /^mcpd1\./);

    const answer = { [key as string]: { action: 'accept', content: { name: 'grace' } } };
    // A state altered by the client is refused, and the parked call is still there after.
    const tampered = `${state.slice(0, -2)}${state.endsWith('A') ? 'B' : 'A'}${state.slice(-1)}`;
    await assert.rejects(
      client.callTool(retry('old__elicit', args, answer, tampered)),
      (error: unknown) =>
        error instanceof ProtocolError &&
        error.code === -32602 &&
        /requestState/.test(error.message),
    );
    // So is a genuine state on another request (different arguments).
    await assert.rejects(
      client.callTool(retry('old__elicit', { message: 'other' }, answer, state)),
      (error: unknown) => error instanceof ProtocolError && /different request/.test(error.message),
    );
    const done = await client.callTool(retry('old__elicit', args, answer, state));
    assert.deepEqual(JSON.parse(textOf(done)), { action: 'accept', content: { name: 'grace' } });
  });

  test('2026 client × legacy backend, answered by the SDK itself (autoFulfill)', async () => {
    const client = await modernClient(daemon.url, true);
    const done = await client.callTool({ name: 'old__elicit', arguments: { message: 'Name?' } });
    assert.deepEqual(JSON.parse(textOf(done)), { action: 'accept', content: { name: 'grace' } });
  });

  test('2026 client without the capability: -32021 naming it, for a legacy backend that asks', async () => {
    const client = new ModernClient(
      { name: 'incapable', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new ModernTransport(new URL(daemon.url)));
    opened.push(client);
    await assert.rejects(
      client.callTool({ name: 'old__sample', arguments: { prompt: 'hi' } }),
      (error: unknown) =>
        error instanceof ProtocolError &&
        error.code === -32021 &&
        JSON.stringify(error.data) === '{"requiredCapabilities":{"sampling":{}}}',
    );
  });

  test('legacy client × 2026 backend: input requests become real requests to the client', async () => {
    const client = await legacyClient(daemon.url);
    assert.equal(
      textOf(
        await client.callTool({
          name: 'new__test_input_required_result_elicitation',
          arguments: {},
        }),
      ),
      'Hello, ada!',
    );
    assert.match(
      textOf(
        await client.callTool({
          name: 'new__test_input_required_result_multiple_inputs',
          arguments: {},
        }),
      ),
      /^Hello ada: greeting sampled, 1 root\(s\) visible/,
    );
    // Two rounds, each with its own question and the backend's state carried across.
    assert.match(
      textOf(
        await client.callTool({
          name: 'new__test_input_required_result_multi_round',
          arguments: {},
        }),
      ),
      /ada/,
    );
  });

  test('an SDK v2 client in the session era × 2026 backend: sampling is asked of it for real', async () => {
    const client = new ModernClient(
      { name: 'v2-legacy', version: '1.0.0' },
      { capabilities: { sampling: {} }, versionNegotiation: { mode: 'legacy' } },
    );
    client.setRequestHandler('sampling/createMessage', () => ({
      role: 'assistant',
      content: { type: 'text', text: 'Paris' },
      model: 'test',
    }));
    await client.connect(new ModernTransport(new URL(daemon.url)));
    opened.push(client);
    assert.equal(client.getProtocolEra(), 'legacy');
    const result = await client.callTool({
      name: 'new__test_input_required_result_sampling',
      arguments: {},
    });
    assert.equal(textOf(result), 'Sampling response: {"type":"text","text":"Paris"}');
  });

  test("a 2026 listen stream hears list changes; errors use each era's codes", async () => {
    const client = await modernClient(daemon.url, true);
    const changes: unknown[] = [];
    client.setNotificationHandler('notifications/tools/list_changed', (n) => void changes.push(n));
    const subscription = await client.listen({ toolsListChanged: true });
    try {
      await client.callTool({ name: 'new__test_trigger_tool_change', arguments: {} });
      await eventually(() => (changes.length > 0 ? true : undefined), 3000);
    } finally {
      await subscription.close();
    }
    await assert.rejects(
      client.readResource({ uri: 'test://nowhere' }),
      (error: unknown) => error instanceof ProtocolError && error.code === -32602,
    );
    const legacy = await legacyClient(daemon.url);
    await assert.rejects(legacy.readResource({ uri: 'test://nowhere' }), /-32002/);
  });
});
