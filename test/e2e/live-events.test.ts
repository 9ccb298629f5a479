/**
 * The live feed: `/api/events` and `mcp-director calls --follow`, as a user runs them,
 * while SDK clients call tools: every finished call arrives once, with its server, tool,
 * outcome and latency; the servers' states come first; a profile's token sees only its
 * profile's calls and servers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectWithToken } from '../helpers/mcp.js';
import { CLI, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { eventParser } from '../../src/shared/event-stream.js';

const ADMIN = 'live-admin-token-0123456789abcdef';
const USER = 'live-user-token-0123456789abcdefg';

interface FeedEvent {
  event: string;
  server: string;
  target?: string;
  status?: string;
  profile?: string;
  latencyUs?: number;
  state?: string;
}

function connect(daemon: Daemon, token: string, profile = ''): Promise<Client> {
  const path = profile === '' ? '/mcp' : `/mcp/${profile}`;
  return connectWithToken(daemon, token, { path, name: `live-${token.slice(0, 4)}` });
}

/** Reads `/api/events` with a token into a list, until aborted. */
function watch(daemon: Daemon, token: string): { events: FeedEvent[]; stop: () => void } {
  const events: FeedEvent[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(`${daemon.base}/api/events`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    const parser = eventParser({
      onEvent: (e) =>
        events.push({ event: e.event ?? '', ...(JSON.parse(e.data) as object) } as FeedEvent),
      onRetry: () => {},
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) parser.feed(decoder.decode(chunk, { stream: true }));
  })().catch(() => undefined);
  return { events, stop: () => controller.abort() };
}

describe('live events', () => {
  let daemon: Daemon;
  let cli: ChildProcess;
  let cliOut = '';
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: { small: { servers: ['beta'] }, ops: {} },
      tokens: {
        root: { token: ADMIN, profile: 'ops', admin: true },
        user: { token: USER, profile: 'small' },
      },
    });
    cli = spawn(process.execPath, [
      CLI,
      'calls',
      '--follow',
      '--url',
      daemon.base,
      '--token',
      ADMIN,
      '--json',
    ]);
    cli.stdout!.setEncoding('utf8').on('data', (chunk: string) => (cliOut += chunk));
  });
  after(async () => {
    cli.kill();
    await daemon.stop();
  });

  test('every finished call once, for whoever may see it', async () => {
    const user = watch(daemon, USER);
    // Both watchers have their servers' states before any call.
    await eventually(
      () => (user.events.length > 0 && cliOut.includes('"event":"server"') ? true : undefined),
      10_000,
      'the watchers',
    );
    const admin = await connect(daemon, ADMIN);
    for (let i = 0; i < 3; i++)
      await admin.callTool({ name: 'alpha__echo', arguments: { text: 'a' } });
    for (let i = 0; i < 2; i++)
      await admin.callTool({ name: 'beta__echo', arguments: { text: 'b' } });
    const small = await connect(daemon, USER);
    await small.callTool({ name: 'beta__echo', arguments: { text: 'c' } });
    await admin.close();
    await small.close();

    const cliCalls = await eventually(
      () => {
        const calls = cliOut
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as FeedEvent)
          .filter((e) => e.event === 'call');
        return calls.length >= 6 ? calls : undefined;
      },
      10_000,
      'the 6 calls in `calls --follow`',
    );
    await new Promise((resolve) => setTimeout(resolve, 600)); // nothing more may come
    const all = cliOut
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FeedEvent);
    assert.equal(all.filter((e) => e.event === 'call').length, 6, 'each call once');
    const count = (server: string, profile: string) =>
      cliCalls.filter(
        (c) =>
          c.server === server && c.profile === profile && c.target === 'echo' && c.status === 'ok',
      ).length;
    assert.equal(count('alpha', 'ops'), 3);
    assert.equal(count('beta', 'ops'), 2);
    assert.equal(count('beta', 'small'), 1);
    assert.ok(cliCalls.every((c) => typeof c.latencyUs === 'number' && c.latencyUs > 0));
    assert.deepEqual(
      all
        .filter((e) => e.event === 'server')
        .map((e) => `${e.server}:${e.state}`)
        .sort(),
      ['alpha:ready', 'beta:ready'],
    );

    // The profile's token: its servers, its calls, nothing of the admin's.
    user.stop();
    assert.deepEqual(
      user.events.filter((e) => e.event === 'server').map((e) => e.server),
      ['beta'],
    );
    assert.deepEqual(
      user.events.filter((e) => e.event === 'call').map((e) => `${e.server}:${e.profile}`),
      ['beta:small'],
    );
  });

  test('calls without a running daemon is one line and exit code 1', async () => {
    const run = spawn(process.execPath, [CLI, 'calls', '--url', 'http://127.0.0.1:1']);
    let stderr = '';
    run.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise((resolve) => run.on('close', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /^mcp-director: MCP Director is not running at http:\/\/127\.0\.0\.1:1/);
  });
});
