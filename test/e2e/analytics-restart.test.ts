/**
 * Analytics outlive the daemon: calls, their rollups, the sessions and the backends' state
 * changes recorded by one daemon are all served by the next one started on the same data
 * folder, through /api and `mcp-director stats`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';

interface History {
  sessions?: {
    id: string;
    client: string;
    clientVersion: string;
    end: number | null;
    calls: number;
  }[];
  events?: { server: string; state: string }[];
}

test('calls, rollups, sessions and server events survive a restart on the same data folder', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpd-restart-data-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = { mcpServers: { echo: fixture('echo-server') } };

  const first = await startDaemon(config, { dataDir });
  let sessionId: string;
  try {
    const client = new Client({ name: 'restart-test', version: '2.3.4' });
    const transport = new StreamableHTTPClientTransport(new URL(first.url));
    await client.connect(transport);
    sessionId = transport.sessionId!;
    for (let i = 0; i < 3; i++) {
      await client.callTool({ name: 'echo__echo', arguments: { text: String(i) } });
    }
    await client.callTool({ name: 'echo__fail', arguments: {} });
    await transport.terminateSession();
    await client.close();
    // Rollups are written once a second: wait until the first daemon sees them itself.
    await eventually(async () => {
      const stats = (await (await fetch(`${first.base}/api/stats`)).json()) as {
        total: { calls: number };
      };
      return stats.total.calls === 4 ? true : undefined;
    });
  } finally {
    await first.stop();
  }

  const second = await startDaemon(config, { dataDir });
  try {
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${second.base}${path}`)).json()) as T;
    const stats = await get<{ total: { calls: number; errors: number } }>('/api/stats');
    assert.deepEqual([stats.total.calls, stats.total.errors], [4, 1]);
    const calls = await get<{ calls: { target: string; error?: string }[] }>('/api/calls');
    assert.deepEqual(
      calls.calls.map((c) => [c.target, c.error]),
      [
        ['fail', 'boom'],
        ['echo', undefined],
        ['echo', undefined],
        ['echo', undefined],
      ],
    );
    const sessions = await get<History>('/api/history?of=sessions');
    const mine = sessions.sessions?.find((s) => s.id === sessionId);
    assert.ok(mine !== undefined, JSON.stringify(sessions));
    assert.deepEqual([mine.client, mine.clientVersion, mine.calls], ['restart-test', '2.3.4', 4]);
    assert.ok(mine.end !== null, 'ended by the DELETE');
    // Both daemons' starts of the backend, newest first.
    const events = await eventually(async () => {
      const history = await get<History>('/api/history?of=servers&server=echo');
      return (history.events ?? []).filter((e) => e.state === 'ready').length >= 2
        ? history.events
        : undefined;
    });
    assert.ok(events.every((e) => e.server === 'echo'));
    const bad = await fetch(`${second.base}/api/history?of=everything`);
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: string }).error,
      /'of' must be sessions or servers/,
    );
  } finally {
    await second.stop();
  }
});
