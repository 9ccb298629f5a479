/**
 * A daemon whose config points at itself — a remote server at its own URL, and a stdio
 * server running `mcp-director connect` to its own URL — refuses both (their handshake
 * carries this daemon's instance id), says so in /api/servers and the log, does not restart
 * them in a loop, and keeps serving its other servers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, eventually, fixture, freePort, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

interface ServerRow {
  id: string;
  state: string;
  restarts: number;
  error?: string;
}

describe('a daemon configured with itself as a backend', () => {
  let daemon: Daemon;
  let port: number;
  before(async () => {
    port = await freePort();
    const self = `http://127.0.0.1:${port}/mcp`;
    daemon = await startDaemon({
      listen: { host: '127.0.0.1', port },
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        'self-http': { url: self },
        'self-stdio': { command: process.execPath, args: [CLI, 'connect', '--url', self] },
      },
    });
  });
  after(() => daemon.stop());

  const servers = async (): Promise<Map<string, ServerRow>> => {
    const body = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: ServerRow[];
    };
    return new Map(body.servers.map((s) => [s.id, s]));
  };

  test('both self entries are failed with a message naming the instance; alpha serves', async () => {
    assert.equal(daemon.port, port);
    const rows = await servers();
    for (const id of ['self-http', 'self-stdio']) {
      const row = rows.get(id)!;
      assert.equal(row.state, 'failed', `${id}: ${JSON.stringify(row)}`);
      assert.match(
        row.error ?? '',
        new RegExp(
          `server '${id}' is this MCP Director itself \\(instance [0-9a-f-]{36}\\); it cannot aggregate itself`,
        ),
      );
      assert.match(
        daemon.stderr(),
        new RegExp(`\\[server:${id}\\].*is this MCP Director itself`),
        'the log says so',
      );
    }
    assert.equal(rows.get('alpha')?.state, 'ready');

    const client = new Client({ name: 'self-reference-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('alpha__echo'));
    assert.ok(
      names.every((n) => n.startsWith('alpha__')),
      `no tools of its own self: ${names.join()}`,
    );
    assert.equal(
      textOf(await client.callTool({ name: 'alpha__echo', arguments: { text: 'ok' } })),
      'ok',
    );
    await client.close();
  });

  test('the refusal is final: no restart loop', async () => {
    const first = await servers();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = await servers();
    for (const id of ['self-http', 'self-stdio']) {
      assert.equal(later.get(id)?.state, 'failed');
      assert.equal(later.get(id)?.restarts, first.get(id)?.restarts, `${id} restarted`);
    }
    // Each was refused once: one error line per server, not one per retry.
    for (const id of ['self-http', 'self-stdio']) {
      const lines = daemon
        .stderr()
        .split('\n')
        .filter((l) => l.includes(`[server:${id}]`) && l.includes('is this MCP Director itself'));
      assert.equal(lines.length, 1, lines.join('\n'));
    }
  });

  test('its initialize and discover results carry the instance id in _meta', async () => {
    const initialize = await fetch(daemon.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'r', version: '1' },
        },
      }),
    });
    const result = ((await initialize.json()) as { result: { _meta: Record<string, string> } })
      .result;
    const id = result._meta['dev.mcp-director/instance'];
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    assert.ok((await servers()).get('self-http')?.error?.includes(id!));
    await eventually(
      () => (daemon.stderr().includes('[server:self-stdio]') ? true : undefined),
      1000,
      'the stdio refusal in the log',
    );
  });
});
