/**
 * `mcp-director stats` as a user runs it: the calls an SDK client made, per tool and per
 * server, from the running daemon, and from its data folder once the daemon has stopped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CLI, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

interface Report {
  total: { calls: number };
  servers: { server: string; calls: number; tools: { tool: string; calls: number }[] }[];
}

function stats(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, 'stats', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, MCP_DIRECTOR_URL: '', MCP_DIRECTOR_TOKEN: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const json = (args: string[]): Report => {
  const run = stats([...args, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Report;
};

describe('mcp-director stats', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({ mcpServers: { echo: fixture('echo-server') } });
    const client = new Client({ name: 'stats-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    for (let i = 0; i < 5; i++)
      await client.callTool({ name: 'echo__echo', arguments: { text: 'x' } });
    for (let i = 0; i < 2; i++)
      await client.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } });
    await client.close();
  });
  after(() => daemon.stop());

  test('per tool and per server from the running daemon', async () => {
    const report = await eventually(
      () => {
        const r = json(['--url', daemon.base]);
        return r.total.calls === 7 ? r : undefined;
      },
      10_000,
      'the 7 calls recorded',
    );
    const tools = Object.fromEntries(report.servers[0]!.tools.map((t) => [t.tool, t.calls]));
    assert.deepEqual(tools, { echo: 5, add: 2 });
    assert.deepEqual(
      json(['--url', daemon.base, '--tool', 'add']).servers.map((s) => s.tools.map((t) => t.calls)),
      [[2]],
    );
    const byTool = stats(['--url', daemon.base]);
    assert.equal(byTool.code, 0, byTool.stderr);
    assert.match(
      byTool.stdout,
      /^SERVER\s+TOOL\s+METHOD\s+CALLS\s+ERRORS\s+TIMEOUTS\s+P50\s+P90\s+P99\s+MAX$/m,
    );
    assert.match(byTool.stdout, /^echo\s+echo\s+tools\/call\s+5\s+0\s+0\s+[\d.]+ m?s/m);
    const byServer = stats(['--url', daemon.base, '--by', 'server']);
    assert.match(byServer.stdout, /^echo\s+7\s+0\s+0\s/m);
    const byClient = stats(['--url', daemon.base, '--by', 'client']);
    assert.match(byClient.stdout, /^stats-test\s+7\s+0$/m);
    assert.equal(
      json(['--url', daemon.base, '--since', '2000-01-01', '--until', '2000-01-02']).total.calls,
      0,
    );
  });

  test('a bad --since is one line and exit code 2', () => {
    const run = stats(['--url', daemon.base, '--since', 'yesterday-ish']);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /'yesterday-ish' is neither a duration \(30s, 15m, 1h, 7d\) nor a date/,
    );
  });

  test('from the data folder once the daemon has stopped', async () => {
    await daemon.stop();
    const report = json(['--url', daemon.base, '--data-dir', join(daemon.dir, 'data')]);
    assert.equal(report.total.calls, 7);
    const missing = stats(['--url', daemon.base, '--data-dir', join(daemon.dir, 'nowhere')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /holds no analytics/);
  });
});
