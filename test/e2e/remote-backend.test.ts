/**
 * A remote backend over Streamable HTTP: the echo fixture served by the official SDK's HTTP
 * transport on 127.0.0.1, configured by `"url"` with a header from `${ENV}`. Calls, progress
 * and server-to-client requests go through it; when the remote server restarts (and so
 * forgets our session) the next call still succeeds: the router opens a new session and
 * sends the call again, and the client never sees the stale session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { REPO_ROOT, startDaemon } from '../helpers/daemon.js';
import { progressTokensOf, textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The echo fixture over Streamable HTTP (or HTTP+SSE) on `port`; resolves once it listens. */
async function serveEcho(port: number, ...flags: string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/test/fixtures/serve-http.js'),
      '--server',
      'echo',
      '--port',
      String(port),
      ...flags,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (/^listening /m.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve-http exited (${code}) before listening`)));
  });
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

describe('remote Streamable HTTP backend', () => {
  let port: number;
  let remote: ChildProcess | undefined;
  let daemon: Daemon;
  let client: Client;

  before(async () => {
    port = await freePort();
    remote = await serveEcho(port);
    daemon = await startDaemon(
      {
        mcpServers: {
          remote: {
            type: 'http',
            url: `http://127.0.0.1:${port}/mcp`,
            headers: { 'X-Team': '${TEAM}' },
          },
        },
      },
      { env: { TEAM: 'blue' } },
    );
    client = new Client(
      { name: 'remote-e2e', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      role: 'assistant',
      content: { type: 'text', text: 'sampled remotely' },
      model: 'test',
    }));
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
    await stop(remote);
  });

  test('lists and calls, with progress and a server-to-client request', async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('remote__echo'), tools.join(', '));
    assert.equal(
      textOf(await client.callTool({ name: 'remote__echo', arguments: { text: 'far away' } })),
      'far away',
    );

    const raw = new Client({ name: 'remote-progress', version: '1.0.0' });
    await raw.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    const tokens = await progressTokensOf(raw, 'remote__progress', { steps: 2 }, 'remote-7');
    await raw.close();
    assert.deepEqual(tokens, ['remote-7', 'remote-7']);

    assert.equal(
      textOf(await client.callTool({ name: 'remote__sample', arguments: { prompt: 'p' } })),
      'sampled remotely',
    );
    const servers = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; url?: string; transport: string }>;
    };
    assert.deepEqual(
      servers.servers.map((s) => [s.id, s.transport, s.url]),
      [['remote', 'http', `http://127.0.0.1:${port}/mcp`]],
    );
  });

  test('a remote server that restarted is re-initialized transparently; the call succeeds', async () => {
    // The counter lives in the remote process: a fresh process starts again from 1.
    assert.equal(textOf(await client.callTool({ name: 'remote__bump', arguments: {} })), '1');
    await stop(remote);
    remote = await serveEcho(port);
    assert.equal(textOf(await client.callTool({ name: 'remote__bump', arguments: {} })), '1');
    assert.equal(
      textOf(await client.callTool({ name: 'remote__echo', arguments: { text: 'still' } })),
      'still',
    );
  });
});

describe('remote HTTP+SSE backend', () => {
  let legacy: ChildProcess | undefined;
  let daemon: Daemon;
  before(async () => {
    const port = await freePort();
    legacy = await serveEcho(port, '--legacy-sse');
    const sseUrl = `http://127.0.0.1:${port}/sse`;
    daemon = await startDaemon({
      mcpServers: {
        // Said outright, and found out: a "url" whose server refuses Streamable HTTP.
        old: { type: 'sse', url: sseUrl },
        guessed: { url: sseUrl },
      },
    });
  });
  after(async () => {
    await daemon?.stop();
    await stop(legacy);
  });

  test('a server on the deprecated transport works, declared or detected', async () => {
    const client = new Client({ name: 'sse-backend-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    try {
      assert.equal(
        textOf(await client.callTool({ name: 'old__echo', arguments: { text: 'declared' } })),
        'declared',
      );
      assert.equal(
        textOf(await client.callTool({ name: 'guessed__echo', arguments: { text: 'detected' } })),
        'detected',
      );
      assert.match(
        daemon.stderr(),
        /refused Streamable HTTP \(HTTP 404\); trying the HTTP\+SSE transport/,
      );
    } finally {
      await client.close();
    }
  });
});
