/**
 * Stopping the daemon the way an operator does (SIGTERM/SIGINT to `mcp-director serve`)
 * while SDK clients have calls in flight: every call is answered (its real result within
 * the drain, SHUTTING_DOWN after it), none is reset, new requests get 503 SHUTTING_DOWN,
 * a second signal stops the wait, the exit code is 0 and no backend process is left.
 * SIGHUP reloads the config file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { alive, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

const SHUTTING_DOWN = -31005;
const CALLS = 10;

async function connect(daemon: Daemon): Promise<{ client: Client; sessionId: string }> {
  const client = new Client({ name: 'shutdown-e2e', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(daemon.url));
  // The daemon's going away makes the SDK's GET stream fail to reconnect: expected here.
  client.onerror = () => undefined;
  await client.connect(transport);
  return { client, sessionId: transport.sessionId as string };
}

async function backendPid(daemon: Daemon, server: string): Promise<number> {
  const health = (await (await fetch(`${daemon.base}/api/health`)).json()) as {
    servers: Record<string, { pid?: number }>;
  };
  const pid = health.servers[server]?.pid;
  assert.equal(typeof pid, 'number', `server ${server} has a pid`);
  return pid as number;
}

/** Each call's outcome: its text, or the JSON-RPC error code it was answered with. */
interface Outcome {
  text?: string;
  code?: number | undefined;
  error?: string | undefined;
}

function settle(call: Promise<unknown>): Promise<Outcome> {
  return call.then(
    (result) => ({ text: textOf(result) }),
    (error: { code?: number; message?: string }) => ({ code: error.code, error: error.message }),
  );
}

/** Starts CALLS slow calls and waits until the daemon has forwarded them all. */
async function callsInFlight(
  daemon: Daemon,
  client: Client,
  ms: number,
): Promise<Array<Promise<Outcome>>> {
  const calls = Array.from({ length: CALLS }, () =>
    settle(
      client.callTool({ name: 'echo__slow', arguments: { ms } }, undefined, { timeout: 60_000 }),
    ),
  );
  // The backend counts every tools/call it received, the probes included.
  const probe = await connect(daemon);
  let probes = 0;
  await eventually(
    async () => {
      probes++;
      const stats = JSON.parse(
        textOf(await probe.client.callTool({ name: 'echo__stats', arguments: {} })),
      ) as { calls: number };
      return stats.calls - probes >= CALLS ? true : undefined;
    },
    10_000,
    'every slow call to reach the backend',
  );
  await probe.client.close();
  return calls;
}

/** A raw POST on a kept-alive connection (a new one would be refused once draining). */
function postOn(
  agent: Agent,
  daemon: Daemon,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      daemon.url,
      {
        agent,
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('SIGTERM with calls in flight', () => {
  test('within the drain every call gets its real result; new requests get 503 SHUTTING_DOWN; exit 0, no backend left', async () => {
    const daemon = await startDaemon({
      limits: { shutdownDrainMs: 15_000 },
      mcpServers: { echo: fixture('echo-server') },
    });
    const pid = await backendPid(daemon, 'echo');
    const { client, sessionId } = await connect(daemon);
    // A connection opened before the signal, kept alive, to send a request during the drain.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const warm = await postOn(
      agent,
      daemon,
      { jsonrpc: '2.0', id: 'warm', method: 'ping' },
      {
        'Mcp-Session-Id': sessionId,
      },
    );
    assert.equal(warm.status, 200);

    const calls = await callsInFlight(daemon, client, 2500);
    const exited = once(daemon.process, 'exit');
    const signalledAt = Date.now();
    daemon.process.kill('SIGTERM');
    await eventually(() => (/SIGTERM: stopping/.test(daemon.stderr()) ? true : undefined));

    const refused = await postOn(
      agent,
      daemon,
      {
        jsonrpc: '2.0',
        id: 'late',
        method: 'tools/call',
        params: { name: 'echo__echo', arguments: { text: 'x' } },
      },
      { 'Mcp-Session-Id': sessionId },
    );
    assert.equal(refused.status, 503);
    const frame = JSON.parse(refused.body) as {
      id: unknown;
      error: { code: number; message: string };
    };
    assert.equal(frame.id, 'late');
    assert.equal(frame.error.code, SHUTTING_DOWN);
    assert.match(frame.error.message, /shutting down/);
    // A fresh TCP connection (fetch would reuse a pooled one) is refused.
    const socket = connectTcp({ host: '127.0.0.1', port: daemon.port });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED', 'no new connection is accepted');

    const outcomes = await Promise.all(calls);
    assert.deepEqual(
      outcomes,
      Array.from({ length: CALLS }, () => ({ text: 'slept 2500' })),
      'every call in flight finished with its own result',
    );
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.ok(Date.now() - signalledAt < 12_000, 'the daemon did not wait for the whole drain');
    assert.equal(alive(pid), false, 'the backend process is gone');
    agent.destroy();
    await client.close().catch(() => undefined);
  });

  test('past a short drain every call is answered SHUTTING_DOWN, none is reset', async () => {
    const daemon = await startDaemon({
      limits: { shutdownDrainMs: 300 },
      mcpServers: { echo: fixture('echo-server') },
    });
    const pid = await backendPid(daemon, 'echo');
    const { client } = await connect(daemon);
    const calls = await callsInFlight(daemon, client, 5000);
    const exited = once(daemon.process, 'exit');
    const signalledAt = Date.now();
    daemon.process.kill('SIGTERM');
    const outcomes = await Promise.all(calls);
    const answeredIn = Date.now() - signalledAt;
    for (const outcome of outcomes) {
      assert.equal(outcome.code, SHUTTING_DOWN, JSON.stringify(outcome));
      assert.match(outcome.error ?? '', /drain deadline/);
    }
    assert.ok(answeredIn < 4000, `answered after the drain, not after the tool (${answeredIn} ms)`);
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.match(daemon.stderr(), /answered 10 calls still in flight with SHUTTING_DOWN/);
    assert.equal(alive(pid), false, 'the backend process is gone');
    await client.close().catch(() => undefined);
  });

  test('a second SIGINT during the drain stops waiting', async () => {
    const daemon = await startDaemon({
      limits: { shutdownDrainMs: 60_000 },
      mcpServers: { echo: fixture('echo-server') },
    });
    const pid = await backendPid(daemon, 'echo');
    const { client } = await connect(daemon);
    const calls = await callsInFlight(daemon, client, 30_000);
    const exited = once(daemon.process, 'exit');
    daemon.process.kill('SIGINT');
    await eventually(() =>
      /draining: 10 calls in flight/.test(daemon.stderr()) ? true : undefined,
    );
    const secondAt = Date.now();
    daemon.process.kill('SIGINT');
    const outcomes = await Promise.all(calls);
    assert.ok(Date.now() - secondAt < 5000);
    for (const outcome of outcomes) assert.equal(outcome.code, SHUTTING_DOWN);
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.match(daemon.stderr(), /SIGINT again: not waiting for calls in flight/);
    assert.equal(alive(pid), false);
    await client.close().catch(() => undefined);
  });
});

describe('SIGHUP', () => {
  test('reloads the config file: an added server is started and callable', async () => {
    const config = {
      listen: { port: 0 },
      mcpServers: { one: fixture('echo-server', ['--label', 'one']) },
    };
    const daemon = await startDaemon(config);
    try {
      const { client } = await connect(daemon);
      const configPath = join(daemon.dir, 'config.json');
      const edited = {
        ...config,
        mcpServers: { ...config.mcpServers, two: fixture('echo-server', ['--label', 'two']) },
      };
      writeFileSync(configPath, JSON.stringify(edited, null, 2));
      // Before the file watcher's debounce: the reload is the signal's.
      daemon.process.kill('SIGHUP');
      const text = await eventually(
        async () => {
          try {
            return textOf(await client.callTool({ name: 'two__whoami', arguments: {} }));
          } catch {
            return undefined;
          }
        },
        15_000,
        'server two to answer',
      );
      assert.equal(text, 'two');
      assert.match(daemon.stderr(), /SIGHUP: reloading the config file/);
      assert.match(daemon.stderr(), /config reloaded: added two/);
      assert.equal(daemon.process.exitCode, null, 'SIGHUP does not stop the daemon');
      await client.close();
    } finally {
      await daemon.stop();
    }
  });
});
