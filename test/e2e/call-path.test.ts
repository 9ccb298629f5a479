/**
 * The files a `tools/call` crosses from the socket to the backend's stdin
 * (docs/architecture.md#call-path): the daemon runs with a probe preloaded in every thread
 * (test/helpers/call-path-probe.ts) that prints the project's files on the stack at the
 * thread hop and at the process hop. The chain must stay as documented: a file that starts
 * passing calls through (a callback where a verdict would do) shows up here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon, REPO_ROOT, type Daemon } from '../helpers/daemon.js';
import { modernClient, textOf } from '../helpers/mcp.js';

const PROBE = pathToFileURL(join(REPO_ROOT, 'dist/test/helpers/call-path-probe.js')).href;

/** Socket to stdin, in a session-era client's `tools/call` (the steps of the doc). */
const SESSION_ERA = [
  'src/supervisor/ingress/uws.ts',
  'src/supervisor/transports/streamable-http.ts',
  'src/supervisor/relay/dispatch.ts',
  'src/supervisor/relay/forwarding.ts',
  'src/shared/link.ts',
  'src/workers/backend/backend-host.ts',
  'src/workers/backend/backend-peer.ts',
  'src/workers/channels/stdio.ts',
];

let daemon: Daemon;

/** The files of the last call's two hops, outermost first, each once. */
async function lastCallPath(): Promise<string[]> {
  const hops = await eventually(() => {
    const lines = daemon.stderr().split('\n');
    const last = (hop: string): string[] | undefined =>
      lines
        .filter((line) => line.startsWith(`CALL-PATH ${hop} `))
        .at(-1)
        ?.split(' ')
        .slice(2);
    const thread = last('thread');
    const process = last('process');
    return thread !== undefined && process !== undefined ? { thread, process } : undefined;
  });
  // The relay posts on the link (thread hop); the worker's stack starts in the link.
  const files = [...hops.thread.reverse(), 'src/shared/link.ts', ...hops.process.reverse()];
  return [...new Set(files), 'src/workers/channels/stdio.ts'];
}

/** Calls the echo tool once with `client` (then closes it); the files that call crossed. */
async function callPathOf(client: {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}): Promise<string[]> {
  try {
    const result = await client.callTool({ name: 'echo__echo', arguments: { text: 'hop' } });
    assert.equal(textOf(result), 'hop');
  } finally {
    await client.close();
  }
  return lastCallPath();
}

describe('the path of a tools/call', () => {
  before(async () => {
    daemon = await startDaemon(
      { mcpServers: { echo: fixture('echo-server') } },
      { env: { NODE_OPTIONS: `--import=${PROBE}` } },
    );
  });

  after(async () => {
    await daemon?.stop();
  });

  test('a session-era call crosses the eight files the architecture doc walks', async () => {
    const client = new Client({ name: 'call-path', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(daemon.url)));
    const path = await callPathOf(client);
    assert.deepEqual(path, SESSION_ERA);
    assert.ok(path.length <= 8, `${path.length} files: ${path.join(' → ')}`);
  });

  test('a stateless-era call crosses one more: the stateless transport', async () => {
    const path = await callPathOf(await modernClient(daemon.url, false));
    assert.deepEqual(path, [
      ...SESSION_ERA.slice(0, 2),
      'src/supervisor/transports/stateless-http.ts',
      ...SESSION_ERA.slice(2),
    ]);
  });
});
