/**
 * `mcp-director` run as a command (its shebang picks node and the options of
 * src/cli/node-flags.ts) has them, and they do what they are for: after a burst of requests
 * the supervisor's young generation is still at most 2 × 2 MiB (it grows to 2 × 16 MiB
 * without them, docs/architecture.md#memory), as the daemon's own /metrics reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { fixture, startDaemon } from '../helpers/daemon.js';

const MIB = 1024 * 1024;

test(
  'the command runs with NODE_FLAGS, and its young generation stays small under load',
  { skip: !existsSync('/proc/self/cmdline') && 'needs /proc' },
  async () => {
    const daemon = await startDaemon(
      { mcpServers: { echo: fixture('echo-server') } },
      {
        asCommand: true,
      },
    );
    const client = new Client({ name: 'node-flags', version: '1.0.0' });
    try {
      const args = readFileSync(`/proc/${daemon.process.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of NODE_FLAGS) assert.ok(args.includes(flag), args.join(' '));

      await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
      const text = 'x'.repeat(2000);
      for (let round = 0; round < 20; round++) {
        await Promise.all(
          Array.from({ length: 20 }, () =>
            client.callTool({ name: 'echo__echo', arguments: { text } }),
          ),
        );
        await client.listTools();
      }
      const metrics = await (await fetch(`${daemon.base}/metrics`)).text();
      const newSpace = Number(
        /^mcp_director_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(
          metrics,
        )?.[1],
      );
      assert.ok(newSpace > 0, 'the young generation is reported');
      assert.ok(newSpace <= 4 * MIB, `young generation ${(newSpace / MIB).toFixed(1)} MiB`);
    } finally {
      await client.close();
      await daemon.stop();
    }
  },
);
