/**
 * Config hot reload, the way a user edits the file under a running daemon: servers added,
 * removed and changed while an SDK client's session stays open and hears `list_changed`;
 * untouched servers keep their process; a profile edit reaches that profile's clients; an
 * invalid edit is reported in the log and `/api/health` and the daemon keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

interface Health {
  servers: Record<string, { state: string; pid?: number }>;
  config: { loadedAt: number; rejected?: { error: string } };
}

describe('hot reload', () => {
  let daemon: Daemon;
  let configPath: string;
  const base = {
    listen: { port: 0 },
    mcpServers: {
      keep: fixture('echo-server', ['--label', 'keep']),
      alpha: fixture('echo-server', ['--label', 'alpha']),
      beta: fixture('echo-server', ['--label', 'beta']),
    } as Record<string, unknown>,
    profiles: { narrow: { servers: ['keep'], tools: { allow: ['keep__echo'] } } } as Record<
      string,
      unknown
    >,
  };

  /** Saves the file as editors do: a temporary file renamed over it. */
  function save(config: object): void {
    const temporary = `${configPath}.tmp`;
    writeFileSync(temporary, JSON.stringify(config, null, 2));
    renameSync(temporary, configPath);
  }

  async function health(): Promise<Health> {
    return (await (await fetch(`${daemon.base}/api/health`)).json()) as Health;
  }

  async function toolNames(client: Client): Promise<string[]> {
    return (await client.listTools()).tools.map((t) => t.name);
  }

  async function connect(path = '/mcp'): Promise<{ client: Client; changes: () => number }> {
    const client = new Client({ name: 'reload-e2e', version: '1' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.base}${path}`)));
    // The SDK opens its GET stream after initialize; notifications need it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { client, changes: () => changes };
  }

  before(async () => {
    daemon = await startDaemon(base);
    configPath = join(daemon.dir, 'config.json');
  });
  after(() => daemon.stop());

  test('adds, removes and changes servers under an open session', async () => {
    const { client, changes } = await connect();
    const before = await health();
    const keepPid = before.servers['keep']?.pid;
    const alphaPid = before.servers['alpha']?.pid;
    assert.ok(keepPid !== undefined && alphaPid !== undefined);
    assert.ok((await toolNames(client)).includes('beta__echo'));

    save({
      ...base,
      mcpServers: {
        keep: base.mcpServers['keep'],
        alpha: fixture('echo-server', ['--label', 'alpha-changed']),
        gamma: fixture('echo-server', ['--label', 'gamma']),
      },
    });
    await eventually(
      async () => {
        const names = await toolNames(client);
        return names.includes('gamma__echo') && !names.includes('beta__echo') ? true : undefined;
      },
      20_000,
      'gamma in and beta out of tools/list',
    );
    const after = await eventually(
      async () => {
        const h = await health();
        return h.servers['alpha']?.state === 'ready' && h.servers['alpha']?.pid !== alphaPid
          ? h
          : undefined;
      },
      20_000,
      'alpha restarted',
    );
    assert.equal(after.servers['keep']?.pid, keepPid, 'an untouched server keeps its process');
    assert.equal(after.servers['beta'], undefined);
    assert.ok(changes() >= 1, 'the session heard tools/list_changed');
    // The same session goes on: the changed server answers with its new label.
    const whoami = await client.callTool({ name: 'alpha__whoami', arguments: {} });
    assert.match(textOf(whoami), /alpha-changed/);
    assert.equal(
      textOf(await client.callTool({ name: 'gamma__echo', arguments: { text: 'new' } })),
      'new',
    );
    await client.close();
  });

  test("a profile edit reaches that profile's clients", async () => {
    const { client, changes } = await connect('/mcp/narrow');
    assert.deepEqual(await toolNames(client), ['keep__echo']);
    const current = JSON.parse(JSON.stringify(base)) as typeof base;
    current.mcpServers = {
      keep: base.mcpServers['keep'],
      alpha: fixture('echo-server', ['--label', 'alpha-changed']),
      gamma: fixture('echo-server', ['--label', 'gamma']),
    };
    current.profiles = {
      narrow: { servers: ['keep'], tools: { allow: ['keep__echo', 'keep__add'] } },
    };
    save(current);
    await eventually(() => (changes() >= 1 ? true : undefined), 10_000, 'list_changed');
    assert.deepEqual((await toolNames(client)).sort(), ['keep__add', 'keep__echo']);
    await client.close();
  });

  test('an invalid edit is reported and the daemon keeps serving', async () => {
    const { client } = await connect();
    const loadedAt = (await health()).config.loadedAt;
    writeFileSync(configPath, '{ "mcpServers": { "keep": { "command": 42 } }, "workers": 0 }');
    const rejected = await eventually(
      async () => (await health()).config.rejected,
      10_000,
      'the rejection in /api/health',
    );
    assert.match(rejected.error, /config\.json/);
    assert.match(
      rejected.error,
      /mcpServers\.keep\.command: expected a non-empty string, found 42/,
    );
    assert.match(rejected.error, /workers: expected an integer of at least 1, found 0/);
    await eventually(() => (/was not applied/.test(daemon.stderr()) ? true : undefined), 5000);
    assert.equal((await health()).config.loadedAt, loadedAt);
    assert.equal(
      textOf(await client.callTool({ name: 'keep__echo', arguments: { text: 'still here' } })),
      'still here',
    );
    // A good edit afterwards applies and clears the report.
    save(base);
    await eventually(
      async () => ((await health()).config.rejected === undefined ? true : undefined),
      10_000,
      'the rejection cleared',
    );
    await eventually(
      async () => ((await toolNames(client)).includes('beta__echo') ? true : undefined),
      20_000,
      'beta back',
    );
    await client.close();
  });
});
