/**
 * Per-identity rate limits against the daemon started from its CLI: a token's burst passes
 * and the next call gets 429 with Retry-After (SDK client and raw HTTP, both eras, the
 * HTTP+SSE transport, a batch); a new session with the same token is still limited; the
 * limit refills; a profile limit is shared by its tokens; a hot reload applies a new limit.
 *
 * Limits refill at 0.5 per second, so a slow machine's delays between steps (well under the
 * 2 s a token takes to come back) cannot refill a bucket behind the test's back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, fixture, rewriteConfig, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';

const LIMITED = 'limited-token-0123456789abcdef';
const Q1 = 'q-one-token-0123456789abcdef';
const Q2 = 'q-two-token-0123456789abcdef';
const MODERN = 'modern-token-0123456789abcdef';
const LEGACY = 'legacy-sse-token-0123456789abc';
const BATCH = 'batch-token-0123456789abcdefg';
const RELOAD = 'reload-token-0123456789abcdef';

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

interface RpcError {
  code: number;
  message: string;
  data: { director: string; retryAfterMs: number; limit: string; token?: string; profile?: string };
}

function connect(daemon: Daemon, token: string): Promise<Client> {
  return connectWithToken(daemon, token, { name: 'rate-limit-e2e' });
}

function echo(client: Client, text: string): Promise<string> {
  return client.callTool({ name: 'alpha__echo', arguments: { text } }).then(textOf);
}

/** The JSON-RPC error inside the SDK's "Error POSTing to endpoint: <body>" (HTTP 429). */
function refusalOf(error: unknown): RpcError {
  const { code, message } = error as { code: number; message: string };
  assert.equal(code, 429, message);
  const body = JSON.parse(message.slice(message.indexOf('{'))) as { error: RpcError };
  return body.error;
}

async function post(
  daemon: Daemon,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const response = await fetch(daemon.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: await response.json(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('rate limits per token and per profile', () => {
  let daemon: Daemon;
  const config = {
    listen: { port: 0 },
    mcpServers: { alpha: fixture('echo-server', ['--label', 'alpha']) },
    profiles: { q: { rateLimit: { perSecond: 0.5, burst: 2 } } } as Record<string, unknown>,
    tokens: {
      limited: { token: LIMITED, rateLimit: { perSecond: 0.5, burst: 3 } },
      q1: { token: Q1, profile: 'q' },
      q2: { token: Q2, profile: 'q' },
      modern: { token: MODERN, rateLimit: { perSecond: 0.5, burst: 1 } },
      legacy: { token: LEGACY, rateLimit: { perSecond: 0.5, burst: 1 } },
      batch: { token: BATCH, rateLimit: { perSecond: 0.5, burst: 1 } },
      reload: { token: RELOAD },
    } as Record<string, unknown>,
  };
  const clients: Client[] = [];
  before(async () => {
    daemon = await startDaemon(config);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await daemon.stop();
  });

  test('3 calls pass, the 4th gets 429 + Retry-After; a new session is still limited; it refills', async () => {
    const first = await connect(daemon, LIMITED);
    clients.push(first);
    const outcomes = await Promise.allSettled(
      ['1', '2', '3', '4', '5'].map((text) => echo(first, text)),
    );
    const passed = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    assert.equal(passed.length, 3, JSON.stringify(outcomes));
    const error = refusalOf(refused[0]);
    assert.equal(error.code, -31008);
    assert.equal(error.data.director, 'RATE_LIMITED');
    assert.deepEqual([error.data.limit, error.data.token], ['token', 'limited']);
    assert.match(error.message, /token 'limited' may make 0\.5 requests per second \(burst 3\)/);
    assert.ok(error.data.retryAfterMs > 0 && error.data.retryAfterMs <= 2000);

    // A new session with the same token: initialize passes (not counted), calls do not.
    const second = await connect(daemon, LIMITED);
    clients.push(second);
    const again = await echo(second, 'x').then(
      () => assert.fail('a re-initialized session got a fresh burst'),
      (e: unknown) => refusalOf(e),
    );
    assert.equal(again.data.token, 'limited');
    // Raw HTTP on that session: status, Retry-After in whole seconds, the id kept.
    const raw = await post(
      daemon,
      { jsonrpc: '2.0', id: 'raw-7', method: 'tools/list' },
      {
        ...bearer(LIMITED),
        'mcp-session-id': (second.transport as StreamableHTTPClientTransport).sessionId!,
        'mcp-protocol-version': '2025-11-25',
      },
    );
    assert.equal(raw.status, 429);
    assert.equal(
      raw.retryAfter,
      String(Math.ceil((raw.body as { error: RpcError }).error.data.retryAfterMs / 1000)),
    );
    assert.ok(['1', '2'].includes(raw.retryAfter!));
    assert.equal((raw.body as { id: string }).id, 'raw-7');
    // ping and a notification are not counted, and are not refused.
    await second.ping();

    await sleep(again.data.retryAfterMs + 2000);
    assert.equal(await echo(second, 'back'), 'back');
    assert.equal(await echo(first, 'back too'), 'back too');
  });

  test('a profile limit is shared by every token of the profile', async () => {
    const one = await connect(daemon, Q1);
    const two = await connect(daemon, Q2);
    clients.push(one, two);
    assert.equal(await echo(one, 'a'), 'a');
    assert.equal(await echo(two, 'b'), 'b');
    for (const client of [one, two]) {
      const error = await echo(client, 'c').then(
        () => assert.fail('the profile limit did not hold'),
        (e: unknown) => refusalOf(e),
      );
      assert.deepEqual([error.data.limit, error.data.profile], ['profile', 'q']);
    }
  });

  test('a stateless 2026-07-28 request gets 429 too', async () => {
    const request = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: 'alpha__echo',
        arguments: { text: 'modern' },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    });
    const headers = {
      ...bearer(MODERN),
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'alpha__echo',
    };
    assert.equal((await post(daemon, request(1), headers)).status, 200);
    const refused = await post(daemon, request(2), headers);
    assert.equal(refused.status, 429);
    assert.ok(refused.retryAfter !== null);
    assert.equal((refused.body as { error: RpcError }).error.code, -31008);
  });

  test('HTTP+SSE: the POST gets 429; the SDK client sees the call fail', async () => {
    const client = new Client({ name: 'rate-limit-sse', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(`${daemon.base}/sse`), {
        requestInit: { headers: bearer(LEGACY) },
      }),
    );
    clients.push(client);
    assert.equal(await echo(client, 'sse'), 'sse');
    await assert.rejects(echo(client, 'sse again'), /429/);
  });

  test('a batch (2025-03-26) answers the item over the limit with RATE_LIMITED, the rest as usual', async () => {
    const init = await fetch(daemon.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...bearer(BATCH),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-03-26',
          capabilities: {},
          clientInfo: { name: 'b', version: '1' },
        },
      }),
    });
    const session = init.headers.get('mcp-session-id')!;
    const call = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'alpha__echo', arguments: { text: `item ${id}` } },
    });
    const answer = await post(daemon, [call(1), call(2)], {
      ...bearer(BATCH),
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-03-26',
    });
    assert.equal(answer.status, 200);
    const items = (answer.body as Array<{ id: number; result?: unknown; error?: RpcError }>).sort(
      (a, b) => a.id - b.id,
    );
    assert.ok(items[0]!.result !== undefined, JSON.stringify(items));
    assert.equal(items[1]!.error?.code, -31008);
  });

  test('a hot reload applies a new limit to the next request', async () => {
    const client = await connect(daemon, RELOAD);
    clients.push(client);
    for (let i = 0; i < 5; i++) assert.equal(await echo(client, `free ${i}`), `free ${i}`);
    const next = {
      ...config,
      tokens: {
        ...config.tokens,
        reload: { token: RELOAD, rateLimit: { perSecond: 0.5, burst: 1 } },
      },
    };
    await rewriteConfig(daemon, next);
    assert.equal(await echo(client, 'one'), 'one');
    const error = await echo(client, 'two').then(
      () => assert.fail('the new limit did not apply'),
      (e: unknown) => refusalOf(e),
    );
    assert.equal(error.data.token, 'reload');
  });
});

test('single-client stdio mode: the profile limit answers a JSON-RPC RATE_LIMITED error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-rate-stdio-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      listen: { port: 0 },
      mcpServers: { alpha: fixture('echo-server', ['--label', 'alpha']) },
      profiles: { q: { rateLimit: { perSecond: 0.5, burst: 2 } } },
    }),
  );
  const client = new Client({ name: 'rate-limit-stdio', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [
        CLI,
        'serve',
        '--config',
        configPath,
        '--data-dir',
        join(dir, 'data'),
        '--profile',
        'q',
      ],
      stderr: 'pipe',
    }),
  );
  try {
    assert.equal(await echo(client, 'one'), 'one');
    assert.equal(await echo(client, 'two'), 'two');
    const error = await echo(client, 'three').then(
      () => assert.fail('the profile limit did not hold on stdio'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof McpError);
    assert.equal(error.code, -31008);
    assert.deepEqual((error.data as RpcError['data']).profile, 'q');
    await client.ping();
  } finally {
    await client.close();
  }
});
