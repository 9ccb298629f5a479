/**
 * Single-client mode: a client that launches `mcp-director serve` as its stdio server (as
 * Claude Desktop does with a `command`) talks MCP over the daemon's stdin/stdout, and the
 * daemon with all its backends goes away when the client closes stdin.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, alive, eventually, fixture } from '../helpers/daemon.js';

test('an SDK client launches the daemon over stdio, lists and calls; closing stdin stops everything', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-stdio-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      listen: { port: 0 },
      mcpServers: { echo: fixture('echo-server'), crash: fixture('crash-server') },
    }),
  );
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--config', configPath, '--data-dir', join(dir, 'data')],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
  await client.connect(transport);
  const daemonPid = transport.pid;
  assert.ok(daemonPid !== null);

  const tools = await client.listTools();
  const names = tools.tools.map((t) => t.name);
  assert.ok(
    names.includes('echo__echo') && names.includes('crash__pid'),
    'the first list is complete: backends had started',
  );
  const echoed = await client.callTool({ name: 'echo__echo', arguments: { text: 'over stdio' } });
  assert.deepEqual(echoed.content, [{ type: 'text', text: 'over stdio' }]);
  const pidResult = await client.callTool({ name: 'crash__pid', arguments: {} });
  const backendPid = Number((pidResult.content as Array<{ text: string }>)[0]?.text);
  assert.ok(alive(backendPid));

  await client.close();
  await eventually(
    () => (!alive(daemonPid) && !alive(backendPid) ? true : undefined),
    15_000,
    'the daemon and its backends to exit',
  );
});

test('serve --profile gives the stdio client that profile; an unknown one is one line, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-stdio-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      listen: { port: 0 },
      mcpServers: { echo: fixture('echo-server') },
      profiles: { small: { tools: { allow: ['echo__echo'] } } },
    }),
  );
  const args = [CLI, 'serve', '--config', configPath, '--data-dir', join(dir, 'data')];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...args, '--profile', 'small'],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'stdio-profile', version: '1.0.0' });
  await client.connect(transport);
  assert.deepEqual(
    (await client.listTools()).tools.map((t) => t.name),
    ['echo__echo'],
  );
  await client.close();

  const refused = spawnSync(process.execPath, [...args, '--profile', 'nope'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    'mcp-director: --profile nope: no such profile; the config defines default, small\n',
  );
});
