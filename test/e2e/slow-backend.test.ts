/**
 * A slow backend never slows anyone else: with one backend hung at start (it never answers
 * initialize) and another hung mid-refresh (it said its tools changed, then never answers
 * tools/list), clients still initialize and list at once, see every other backend's tools,
 * and call them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

/** Far below any timeout of the director's: an answer this fast waited for no backend. */
const BUDGET_MS = 1000;

describe('one hung backend', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon(
      {
        mcpServers: {
          echo: fixture('echo-server'),
          raw: fixture('raw-server'),
          hung: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1 << 30)'] },
        },
      },
      // The hung one never becomes ready: /healthz would wait for its start timeout.
      { waitHealthy: false },
    );
  });
  after(() => daemon.stop());

  async function connectAndList(): Promise<{ ms: number; tools: string[]; client: Client }> {
    const started = performance.now();
    const client = new Client({ name: 'slow-backend-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    const { tools } = await client.listTools();
    return { ms: performance.now() - started, tools: tools.map((t) => t.name), client };
  }

  test('initialize and tools/list answer at once, with the live backends tools', async () => {
    // The ready backends list as soon as they are up; the hung one never will.
    let first = await connectAndList();
    const upYet = (tools: string[]): boolean =>
      tools.includes('raw__t1') && tools.includes('echo__echo');
    for (let i = 0; i < 100 && !upYet(first.tools); i++) {
      await first.client.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      first = await connectAndList();
    }
    assert.ok(
      first.tools.includes('echo__echo') && first.tools.includes('raw__t1'),
      first.tools.join(),
    );
    assert.ok(first.tools.every((name) => !name.startsWith('hung__')));
    assert.ok(first.ms < BUDGET_MS, `${first.ms} ms`);

    // raw now hangs mid-refresh: it said its tools changed and never lists them again.
    // (calling raw's t2 makes it say its tools changed, then never list them again)
    await first.client.callTool({ name: 'raw__t2', arguments: {} });
    await first.client.close();
    for (let i = 0; i < 5; i++) {
      const { ms, tools, client } = await connectAndList();
      assert.ok(ms < BUDGET_MS, `connect + list took ${ms} ms with a backend hung mid-refresh`);
      assert.ok(tools.includes('echo__echo'), tools.join());
      assert.ok(tools.includes('raw__t1'), 'the hung backend keeps its last known tools');
      const result = await client.callTool({
        name: 'echo__echo',
        arguments: { text: 'still here' },
      });
      assert.match(JSON.stringify(result), /still here/);
      await client.close();
    }
  });
});
