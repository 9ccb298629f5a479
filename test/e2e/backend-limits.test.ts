/**
 * What one backend may cost the daemon (README "Limits and safety"), driven as a user meets
 * it: the daemon from its CLI, real backend processes, the SDK client over Streamable HTTP.
 * - `limits.maxBackendMessageBytes`: a backend that floods stdout without a newline is
 *   killed and restarted, its call fails naming the limit, its neighbour on the same shard
 *   keeps its process and its calls, and the daemon's memory stays bounded.
 * - `limits.maxConcurrentCallsPerServer` / `maxQueuedCallsPerServer`: exactly that many
 *   calls run at once, the queued ones follow in order, the excess is refused OVERLOADED;
 *   a queued call keeps its deadline and can be cancelled before it reaches the backend.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { alive, eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { textOf } from '../helpers/mcp.js';

const clients: Client[] = [];

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'backend-limits', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  clients.push(client);
  return client;
}

/** A tool's JSON answer. */
async function callJson<T>(client: Client, name: string, args: Record<string, unknown> = {}) {
  return JSON.parse(textOf(await client.callTool({ name, arguments: args }))) as T;
}

/** The resident set of a process in MiB (Linux). */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  assert.ok(Number.isFinite(kb), 'VmRSS readable');
  return kb / 1024;
}

interface RpcFailure {
  code: number;
  message: string;
}

/** The JSON-RPC error a call failed with (the SDK raises McpError), or null if it succeeded. */
async function failureOf(call: Promise<unknown>): Promise<RpcFailure | null> {
  try {
    await call;
    return null;
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    assert.equal(typeof code, 'number', `an MCP error, not ${String(error)}`);
    return { code: code as number, message: String(message) };
  }
}

after(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
});

describe('a backend flooding stdout without a newline', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      workers: 1, // both servers on one shard: the neighbour shares the flooder's thread
      mcpServers: { flood: fixture('limits-server'), neighbour: fixture('limits-server') },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('is killed and restarted at the cap; its neighbour and the daemon live on', async (t) => {
    const client = await connect(daemon.url);
    const neighbourClient = await connect(daemon.url);
    const daemonPid = daemon.process.pid as number;
    const floodPid = (await callJson<{ pid: number }>(client, 'flood__pid')).pid;
    const neighbourPid = (await callJson<{ pid: number }>(neighbourClient, 'neighbour__pid')).pid;

    const rssBefore = rssMiB(daemonPid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(daemonPid))), 5);

    // The neighbour is called without pause while the flood runs, and for a while after.
    let flooding = true;
    let neighbourCalls = 0;
    const neighbourFailures: unknown[] = [];
    const neighbourLoop = (async () => {
      for (let i = 0; i < 5000 && flooding; i++) {
        await neighbourClient.callTool({ name: 'neighbour__busy', arguments: { ms: 0 } }).then(
          () => neighbourCalls++,
          (error: unknown) => neighbourFailures.push(error),
        );
      }
    })();

    let failedAt = 0;
    let backAfterMs = 0;
    let newPid = 0;
    try {
      const failure = await failureOf(
        client.callTool({ name: 'flood__flood', arguments: { megabytes: 300 } }),
      );
      failedAt = Date.now();
      assert.ok(failure !== null, 'the flooding call fails');
      assert.equal(failure.code, -31003);
      assert.match(
        failure.message,
        /server 'flood' sent a message over 33554432 bytes \(limits\.maxBackendMessageBytes\) while handling tools\/call 'flood'; it was killed and is being restarted/,
      );
      newPid = await eventually(
        () =>
          callJson<{ pid: number }>(client, 'flood__pid').then(
            ({ pid }) => pid,
            () => undefined,
          ),
        15_000,
        'the flooding server back',
      );
      backAfterMs = Date.now() - failedAt;
      await delay(200); // the neighbour goes on after the restart too
    } finally {
      flooding = false;
      await neighbourLoop;
      clearInterval(sampler);
    }
    const rssAfter = rssMiB(daemonPid);
    t.diagnostic(
      `daemon RSS before ${rssBefore.toFixed(0)} MiB, peak ${rssPeak.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB; ` +
        `flooder back (serving calls) ${backAfterMs} ms after its call failed; neighbour calls meanwhile: ${neighbourCalls}`,
    );

    assert.notEqual(newPid, floodPid, 'a new process');
    assert.equal(alive(floodPid), false, 'the flooder was killed');
    assert.deepEqual(neighbourFailures, [], 'every neighbour call succeeded');
    assert.ok(neighbourCalls > 0);
    const neighbourNow = (await callJson<{ pid: number }>(neighbourClient, 'neighbour__pid')).pid;
    assert.equal(neighbourNow, neighbourPid, 'the neighbour kept its process');
    assert.ok(rssPeak < 400, `daemon RSS peaked at ${rssPeak.toFixed(0)} MiB`);
    assert.match(
      daemon.stderr(),
      /\[server:flood\] server 'flood' sent a message over 33554432 bytes \(limits\.maxBackendMessageBytes\); killing it/,
    );
  });
});

describe('calls in flight and queued per backend', () => {
  let daemon: Daemon;
  let client: Client;
  before(async () => {
    daemon = await startDaemon({
      limits: { maxConcurrentCallsPerServer: 3, maxQueuedCallsPerServer: 4 },
      mcpServers: {
        gate: fixture('limits-server'),
        cancelgate: fixture('limits-server'),
        slowgate: fixture('limits-server', [], { timeoutMs: 1000 }),
      },
    });
    client = await connect(daemon.url);
  });
  after(async () => {
    await daemon?.stop();
  });

  test('runs the limit at once, queues the next ones in order, refuses the rest', async () => {
    const started = Date.now();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => {
        const call = client.callTool({ name: 'gate__busy', arguments: { ms: 500 } });
        return Promise.all([
          failureOf(call),
          call.then(
            (result) => JSON.parse(textOf(result)) as { atStart: number; peak: number },
            () => null,
          ),
          call.then(
            () => Date.now() - started,
            () => Date.now() - started,
          ),
        ]);
      }),
    );
    const refused = outcomes.filter(([failure]) => failure !== null);
    const served = outcomes.filter(([failure]) => failure === null);
    assert.equal(refused.length, 3, '3 over 3 running + 4 queued');
    assert.equal(served.length, 7);
    for (const [failure, , ms] of refused) {
      assert.equal(failure?.code, -31007);
      assert.match(
        failure?.message ?? '',
        /Server 'gate' is overloaded: 3 calls in flight \(limits\.maxConcurrentCallsPerServer = 3\) and 4 waiting \(limits\.maxQueuedCallsPerServer = 4\)/,
      );
      assert.ok(ms < 400, `refused at once, not after ${ms} ms`);
    }
    const peaks = served.map(([, body]) => body?.peak ?? 0);
    assert.equal(Math.max(...peaks), 3, 'never more than 3 at once at the backend');
    assert.ok(
      served.every(([, body]) => (body?.atStart ?? 99) <= 3),
      'each call saw at most 3 running',
    );
    // Three waves of 500 ms: 3 at once, then 3, then the last one.
    const times = served.map(([, , ms]) => ms).sort((a, b) => a - b);
    assert.ok((times[2] ?? 0) < 1000 && (times[3] ?? 0) >= 950, `waves: ${times.join(', ')}`);
    assert.ok((times[6] ?? 0) >= 1400, `the last one ran in the third wave: ${times.join(', ')}`);
  });

  test('a cancelled queued call never reaches the backend', async () => {
    const running = Array.from({ length: 3 }, () =>
      client.callTool({ name: 'cancelgate__busy', arguments: { ms: 600 } }),
    );
    await delay(100);
    const abort = new AbortController();
    const queued = client.callTool({ name: 'cancelgate__busy', arguments: { ms: 0 } }, undefined, {
      signal: abort.signal,
    });
    await delay(100);
    abort.abort('changed my mind');
    await assert.rejects(queued);
    await Promise.all(running);
    const after = await callJson<{ started: number }>(client, 'cancelgate__busy', { ms: 0 });
    assert.equal(after.started, 4, 'the 3 running calls and this one; the cancelled never started');
  });

  test('a queued call keeps its deadline: its timeout counts from its arrival', async () => {
    // timeoutMs 1000: three calls of 800 ms run; the fourth waits 700 ms for a place, then
    // has 300 ms left for its 800 ms, so it times out 1000 ms after it was sent.
    const running = Array.from({ length: 3 }, () =>
      client.callTool({ name: 'slowgate__busy', arguments: { ms: 800 } }),
    );
    await delay(100);
    const sent = Date.now();
    const failure = await failureOf(
      client.callTool({ name: 'slowgate__busy', arguments: { ms: 800 } }),
    );
    const elapsed = Date.now() - sent;
    await Promise.all(running);
    assert.equal(failure?.code, -31002);
    assert.match(failure?.message ?? '', /did not answer tools\/call 'busy' within 1000 ms/);
    assert.ok(elapsed >= 900 && elapsed < 1400, `timed out after ${elapsed} ms`);
  });
});

describe('a backend answering JSON nested deeper than limits.maxJsonDepth', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      workers: 1,
      mcpServers: { deep: fixture('limits-server'), other: fixture('limits-server') },
    });
  });
  after(async () => {
    await daemon.stop();
  });

  test('fails that call naming the limit; the shard and its neighbour serve on', async () => {
    const client = await connect(daemon.url);
    const { pid: otherPid } = await callJson<{ pid: number }>(client, 'other__pid');
    // 200 levels pass (the default limit is 256); 3,000 would overflow structured clone on
    // some stacks and is refused.
    const fine = await client.callTool({ name: 'deep__deep', arguments: { depth: 200 } });
    assert.equal(textOf(fine), 'deep');
    const failure = await failureOf(
      client.callTool({ name: 'deep__deep', arguments: { depth: 3000 } }),
    );
    assert.equal(failure?.code, -32603);
    assert.match(
      failure?.message ?? '',
      /nested deeper than 256 levels \("limits\.maxJsonDepth"\)/,
    );
    const again = await callJson<{ pid: number }>(client, 'other__pid');
    assert.equal(again.pid, otherPid, 'the neighbour kept its process');
    assert.ok(alive(daemon.process.pid as number));
    assert.match(daemon.stderr(), /answer to request .* became an error/);
  });
});
