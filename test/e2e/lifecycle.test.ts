/**
 * Processes and failure (docs/architecture.md#processes-and-failure): backends that crash are
 * restarted and their calls get a clear error, backends that cannot start are reported, a stop
 * leaves no process behind, and a second daemon refuses a port that is already served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { alive, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';
import type { Daemon } from '../helpers/daemon.js';

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'lifecycle', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

interface Health {
  status: string;
  uws: string;
  servers: Record<string, { state: string; restarts: number; error?: string; pid?: number }>;
}

async function health(daemon: Daemon): Promise<Health> {
  return (await (await fetch(`${daemon.base}/api/health`)).json()) as Health;
}

describe('backend failures', () => {
  let daemon: Daemon;
  let client: Client;
  before(async () => {
    daemon = await startDaemon({
      workers: 2,
      mcpServers: {
        crash: fixture('crash-server'),
        broken: fixture('crash-server', [], { env: { CRASH_ON_START: '1' } }),
        missing: { command: 'no-such-command-mcpd-test', args: [] },
        echo: fixture('echo-server'),
      },
    });
    client = await connect(daemon.url);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  test('/healthz is 200 once every backend started or failed; health names the failures', async () => {
    assert.equal((await fetch(`${daemon.base}/healthz`)).status, 200);
    const body = await health(daemon);
    assert.equal(body.status, 'degraded');
    assert.match(body.uws, /uws/i);
    assert.equal(body.servers['crash']?.state, 'ready');
    assert.equal(body.servers['broken']?.state, 'failed');
    assert.match(body.servers['broken']?.error ?? '', /exit|code 3/i);
    assert.equal(body.servers['missing']?.state, 'failed');
    assert.match(body.servers['missing']?.error ?? '', /not found|ENOENT/i);
  });

  test('a backend that exits mid-call: the call gets a clear error, the backend restarts', async () => {
    const before = await health(daemon);
    await assert.rejects(
      client.callTool({ name: 'crash__crash', arguments: {} }),
      (error: { code?: number; message?: string }) => {
        assert.equal(error.code, -31003);
        assert.match(String(error.message), /crash/);
        return true;
      },
    );
    const pong = await eventually(
      async () => {
        try {
          return textOf(await client.callTool({ name: 'crash__ping_me', arguments: {} }));
        } catch {
          return undefined;
        }
      },
      10_000,
      'the crashed backend to come back',
    );
    assert.equal(pong, 'pong');
    const afterHealth = await health(daemon);
    assert.ok(
      (afterHealth.servers['crash']?.restarts ?? 0) > (before.servers['crash']?.restarts ?? 0),
    );
    // Other backends never noticed.
    assert.equal(
      textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'still here' } })),
      'still here',
    );
  });
});

describe('starting', () => {
  test('/healthz is 503 while a backend is still starting, then 200', async () => {
    const daemon = await startDaemon(
      { mcpServers: { slow: fixture('crash-server', [], { env: { START_DELAY_MS: '2500' } }) } },
      { waitHealthy: false },
    );
    try {
      const early = await fetch(`${daemon.base}/healthz`);
      assert.equal(early.status, 503);
      assert.equal(((await early.json()) as { status: string }).status, 'starting');
      await eventually(
        async () => ((await fetch(`${daemon.base}/healthz`)).status === 200 ? true : undefined),
        15_000,
        '/healthz 200',
      );
    } finally {
      await daemon.stop();
    }
  });

  test('a bad config stops the start with every problem, by file and path', async () => {
    await assert.rejects(
      startDaemon({ mcpServers: { 'bad id!': { command: 42 }, ok: { command: 'x', args: 'y' } } }),
      (error: Error) => {
        assert.match(error.message, /exited with code 1/);
        assert.match(error.message, /config\.json/);
        assert.match(error.message, /mcpServers\.ok\.args/);
        assert.match(error.message, /bad id!/);
        return true;
      },
    );
  });
});

describe('stopping', () => {
  test('SIGTERM stops every backend process, also one that ignores SIGTERM', async () => {
    const daemon = await startDaemon({
      mcpServers: {
        polite: fixture('crash-server'),
        stubborn: fixture('crash-server', [], { env: { IGNORE_SIGTERM: '1' } }),
      },
    });
    const servers = (await health(daemon)).servers;
    const pids = [servers['polite']?.pid, servers['stubborn']?.pid];
    assert.ok(
      pids.every((pid) => typeof pid === 'number' && alive(pid)),
      JSON.stringify(servers),
    );
    const code = await daemon.stop('SIGTERM');
    assert.equal(code, 0);
    for (const pid of pids) assert.equal(alive(pid as number), false, `process ${pid} is gone`);
  });

  test('a second daemon refuses a port that is already served', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const first = await startDaemon({ listen: { port }, mcpServers: {} });
    try {
      await assert.rejects(
        startDaemon({ listen: { port }, mcpServers: {} }),
        /already served by another process/,
      );
    } finally {
      await first.stop();
    }
  });
});
