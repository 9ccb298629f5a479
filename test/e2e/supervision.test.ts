/**
 * Supervision of shared servers, driven as a user would: the daemon from its CLI, real
 * backend processes (each writes its pid to a file, so the process table can be checked),
 * the official SDK client. A server's `initializeTimeoutMs`; `"start": "lazy"` (started by
 * the first list or call that needs it); `idleStopMs` (stopped when unused, tools still
 * listed, started again by the next call, kept awake by calls in flight and subscriptions);
 * and calls that arrive while a server starts or restarts, which wait (at most
 * `limits.startWaitMs`) instead of failing as "Unknown tool".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { alive, eventually, fixture, startDaemon, waitHealthy } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

async function connect(daemon: Daemon, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'supervision-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.base}${path}`)));
  return client;
}

interface ServerRow {
  id: string;
  state: string;
  pid?: number;
  error?: string;
}

async function server(daemon: Daemon, id: string): Promise<ServerRow> {
  const body = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
    servers: ServerRow[];
  };
  const row = body.servers.find((s) => s.id === id);
  assert.ok(row, `server '${id}' in /api/servers`);
  return row;
}

/** The pids a fixture started with `--pid-file` wrote, in start order. */
function pids(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}

async function waitForState(
  daemon: Daemon,
  id: string,
  wanted: (state: string) => boolean,
  what: string,
): Promise<void> {
  await eventually(
    async () => (wanted((await server(daemon, id)).state) ? true : undefined),
    10_000,
    what,
  );
}

async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((t) => t.name);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The time of the first daemon log line matching `pattern`. */
function loggedAt(daemon: Daemon, pattern: RegExp): number | undefined {
  const line = daemon
    .stderr()
    .split('\n')
    .find((l) => pattern.test(l));
  return line === undefined ? undefined : Date.parse(line.slice(0, line.indexOf(' ')));
}

describe('initializeTimeoutMs', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        // Never reads stdin: neither the era probe nor initialize is ever answered.
        hung: fixture('crash-server', [], {
          env: { START_DELAY_MS: '600000' },
          initializeTimeoutMs: 500,
        }),
        echo: fixture('echo-server'),
      },
    });
  });
  after(() => daemon?.stop());

  test('a server that never answers initialize fails after its setting; the others serve', async (t) => {
    const hung = await server(daemon, 'hung');
    assert.equal(hung.state, 'failed');
    assert.match(hung.error ?? '', /initialize got no answer within 500 ms/);
    assert.match(hung.error ?? '', /initializeTimeoutMs/);
    // Probe (at most the setting) and initialize (the setting): about 1 s, not 60 s.
    const started = loggedAt(daemon, /server 'hung' is starting/);
    // Said when the timeout fires; the `failed` state follows once the process is gone.
    const failed = loggedAt(daemon, /\[server:hung\] failed to start: .*initializeTimeoutMs/);
    assert.ok(started !== undefined && failed !== undefined, daemon.stderr());
    const took = failed - started;
    assert.ok(took >= 900 && took < 2000, `failed ${took} ms after it started`);
    t.diagnostic(`initializeTimeoutMs 500: start given up ${took} ms after the spawn`);
    const client = await connect(daemon);
    assert.equal(
      textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'alive' } })),
      'alive',
    );
    await client.close();
  });
});

describe('"start": "lazy"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-lazy-'));
  const listerPids = join(dir, 'lister.pids');
  const callerPids = join(dir, 'caller.pids');
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        echo: fixture('echo-server'),
        lister: fixture('echo-server', ['--pid-file', listerPids], { start: 'lazy' }),
        caller: fixture('echo-server', ['--pid-file', callerPids, '--start-delay-ms', '300'], {
          start: 'lazy',
        }),
      },
      profiles: { lists: { servers: ['echo', 'lister'] }, calls: { servers: ['caller'] } },
    });
  });
  after(() => daemon?.stop());

  test('lazy servers are not started with the daemon, and /healthz does not wait for them', async () => {
    assert.equal((await fetch(`${daemon.base}/healthz`)).status, 200);
    for (const id of ['lister', 'caller']) {
      const row = await server(daemon, id);
      assert.equal(row.state, 'idle');
      assert.equal(row.pid, undefined);
    }
    assert.deepEqual(pids(listerPids), []);
    assert.deepEqual(pids(callerPids), []);
    assert.equal((await server(daemon, 'echo')).state, 'ready');
  });

  test('a list starts the lazy servers of its profile; list_changed follows with their tools', async () => {
    const client = await connect(daemon, '/mcp/lists');
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    const first = await toolNames(client);
    assert.ok(first.includes('echo__echo'), first.join());
    const listed = await eventually(
      async () => {
        const names = await toolNames(client);
        return names.includes('lister__echo') ? names : undefined;
      },
      10_000,
      "lister's tools",
    );
    assert.ok(listed.includes('echo__echo'));
    await eventually(() => (changed > 0 ? true : undefined), 5000, 'tools/list_changed');
    const [pid] = pids(listerPids);
    assert.ok(pid !== undefined && alive(pid));
    assert.equal((await server(daemon, 'lister')).pid, pid);
    assert.equal(
      textOf(await client.callTool({ name: 'lister__echo', arguments: { text: 'hi' } })),
      'hi',
    );
    // The profile 'calls' did not list: its lazy server is still not running.
    assert.deepEqual(pids(callerPids), []);
    await client.close();
  });

  test("a call of a lazy server's tool starts it, waits for it, and gets the answer", async (t) => {
    const client = await connect(daemon, '/mcp/calls');
    const sent = Date.now();
    const result = await client.callTool({ name: 'caller__echo', arguments: { text: 'first' } });
    assert.equal(textOf(result), 'first');
    t.diagnostic(`first call of a lazy server (300 ms start delay): ${Date.now() - sent} ms`);
    assert.equal(pids(callerPids).length, 1);
    assert.equal((await server(daemon, 'caller')).state, 'ready');
    // A name no server has is still unknown, once every server of the view has listed.
    await assert.rejects(client.callTool({ name: 'caller__nope', arguments: {} }), (error) => {
      assert.equal((error as { code?: number }).code, -32602);
      assert.match(String(error), /Unknown tool: caller__nope/);
      return true;
    });
    await client.close();
  });
});

describe('idleStopMs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-idle-'));
  const napperPids = join(dir, 'napper.pids');
  const IDLE_MS = 700;
  let daemon: Daemon;
  let client: Client;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        napper: fixture('echo-server', ['--pid-file', napperPids], { idleStopMs: IDLE_MS }),
      },
    });
    client = await connect(daemon);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  const echo = async (text: string): Promise<string> =>
    textOf(await client.callTool({ name: 'napper__echo', arguments: { text } }));

  test('unused for idleStopMs: the process stops, its tools stay listed, the next call starts it', async (t) => {
    // Taken before the call: the idle time counts from when the call reached the server.
    const lastCall = Date.now();
    assert.equal(await echo('one'), 'one');
    const [first] = pids(napperPids);
    assert.ok(first !== undefined && alive(first));
    await eventually(
      async () => ((await server(daemon, 'napper')).state === 'idle' ? true : undefined),
      10_000,
      'napper idle',
    );
    const idleAfter = Date.now() - lastCall;
    assert.ok(idleAfter >= IDLE_MS, 'not stopped before idleStopMs');
    t.diagnostic(`idleStopMs ${IDLE_MS}: seen idle ${idleAfter} ms after the last call`);
    assert.equal(alive(first), false, `process ${first} is gone`);
    assert.equal((await server(daemon, 'napper')).pid, undefined);
    assert.ok((await toolNames(client)).includes('napper__echo'));
    // A log level does not need the process: it is applied when the server next starts.
    await client.setLoggingLevel('debug');
    await sleep(300);
    assert.equal((await server(daemon, 'napper')).state, 'idle');
    assert.equal(pids(napperPids).length, 1);
    const woken = Date.now();
    assert.equal(await echo('two'), 'two');
    t.diagnostic(`call to the idle server (start included): ${Date.now() - woken} ms`);
    const all = pids(napperPids);
    assert.equal(all.length, 2);
    assert.notEqual(all[1], first);
    assert.ok(alive(all[1] as number));
    assert.equal((await server(daemon, 'napper')).state, 'ready');
  });

  test('a call in flight and a live subscription keep it awake', async () => {
    const slow = client.callTool({ name: 'napper__slow', arguments: { ms: IDLE_MS * 2 + 300 } });
    await sleep(IDLE_MS * 2);
    const during = await server(daemon, 'napper');
    assert.equal(during.state, 'ready', 'not stopped under a call in flight');
    assert.match(textOf(await slow), /^slept/);
    const pid = during.pid as number;

    await client.subscribeResource({ uri: 'echo://counter' });
    await sleep(IDLE_MS * 2 + 200);
    assert.equal((await server(daemon, 'napper')).state, 'ready', 'subscribed: kept');
    assert.ok(alive(pid));
    await client.unsubscribeResource({ uri: 'echo://counter' });
    await eventually(
      async () => ((await server(daemon, 'napper')).state === 'idle' ? true : undefined),
      10_000,
      'napper idle after unsubscribe',
    );
    assert.equal(alive(pid), false);
    assert.equal(await echo('three'), 'three');
  });
});

describe('idleStopMs: a call cancelled while its idle server starts', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        napper: fixture('echo-server', ['--start-delay-ms', '500'], { idleStopMs: 500 }),
      },
    });
  });
  after(() => daemon?.stop());

  test('never reaches the server, which starts anyway and answers the next call', async () => {
    const client = await connect(daemon);
    await waitForState(daemon, 'napper', (state) => state === 'idle', 'napper idle');
    // Its name is listed: the call is held in the supervisor while the server starts.
    const abort = new AbortController();
    const cancelled = client.callTool(
      { name: 'napper__echo', arguments: { text: 'x' } },
      undefined,
      {
        signal: abort.signal,
      },
    );
    await sleep(100);
    abort.abort('changed my mind');
    await assert.rejects(cancelled);
    await waitForState(daemon, 'napper', (state) => state === 'ready', 'napper ready');
    const stats = JSON.parse(
      textOf(await client.callTool({ name: 'napper__stats', arguments: {} })),
    ) as { calls: number };
    assert.equal(stats.calls, 1);
    await client.close();
  });
});

describe('calls while servers start', () => {
  test('a call sent as soon as the daemon listens waits for a slow server and succeeds', async () => {
    const daemon = await startDaemon(
      {
        mcpServers: {
          slow: fixture('echo-server', ['--start-delay-ms', '1500']),
          crash: fixture('crash-server'),
        },
      },
      { waitHealthy: false },
    );
    try {
      assert.equal((await fetch(`${daemon.base}/healthz`)).status, 503);
      const client = await connect(daemon);
      const result = await client.callTool({ name: 'slow__echo', arguments: { text: 'early' } });
      assert.equal(textOf(result), 'early');

      // A restart is waited out the same way: the call right after a crash gets its answer.
      await waitHealthy(daemon.base, 10_000);
      await assert.rejects(client.callTool({ name: 'crash__crash', arguments: {} }), /exited/);
      const pong = await client.callTool({ name: 'crash__ping_me', arguments: {} });
      assert.equal(textOf(pong), 'pong');
      await client.close();
    } finally {
      await daemon.stop();
    }
  });

  test('a waiting call that the client cancels never reaches the server', async () => {
    const daemon = await startDaemon(
      { mcpServers: { slow: fixture('echo-server', ['--start-delay-ms', '1500']) } },
      { waitHealthy: false },
    );
    try {
      const client = await connect(daemon);
      // Its name is not listed yet: the request waits for the server's catalog.
      await waitForState(daemon, 'slow', (state) => state !== 'ready', 'slow not ready yet');
      const abort = new AbortController();
      const cancelled = client.callTool(
        { name: 'slow__echo', arguments: { text: 'x' } },
        undefined,
        {
          signal: abort.signal,
        },
      );
      await sleep(200);
      abort.abort('changed my mind');
      await assert.rejects(cancelled);
      await waitHealthy(daemon.base, 10_000);
      // `stats` counts every tools/call the server handled: only itself.
      const stats = JSON.parse(
        textOf(await client.callTool({ name: 'slow__stats', arguments: {} })),
      ) as { calls: number };
      assert.equal(stats.calls, 1);
      await client.close();
    } finally {
      await daemon.stop();
    }
  });

  test('past limits.startWaitMs the call is told the server is still starting, not "Unknown tool"', async () => {
    const daemon = await startDaemon(
      {
        mcpServers: { slow: fixture('echo-server', ['--start-delay-ms', '3000']) },
        limits: { startWaitMs: 200 },
      },
      { waitHealthy: false },
    );
    try {
      const client = await connect(daemon);
      const sent = Date.now();
      await assert.rejects(
        client.callTool({ name: 'slow__echo', arguments: { text: 'x' } }),
        (error: { code?: number; message?: string }) => {
          assert.equal(error.code, -31001);
          assert.match(String(error.message), /Server 'slow' is still starting/);
          assert.match(String(error.message), /startWaitMs/);
          assert.doesNotMatch(String(error.message), /Unknown tool/);
          return true;
        },
      );
      const waited = Date.now() - sent;
      assert.ok(waited >= 150 && waited < 2000, `answered after ${waited} ms`);
      // Once it has started, the same call succeeds.
      await waitHealthy(daemon.base, 10_000);
      const result = await client.callTool({ name: 'slow__echo', arguments: { text: 'later' } });
      assert.equal(textOf(result), 'later');
      await client.close();
    } finally {
      await daemon.stop();
    }
  });
});
