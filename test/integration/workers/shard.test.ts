/**
 * The shard worker end to end: a real worker thread running `runShard`, real stdio fixture
 * servers as children, the real analytics store. Covers the messages of src/shared/messages.ts
 * as the supervisor sees them.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import runShard from '../../../src/workers/shard.js';
import { CONFIG_DEFAULTS } from '../../../src/shared/config/defaults.js';
import { openAnalyticsStore } from '../../../src/shared/analytics/store.js';
import { directorCodeOf, DirectorErrorCode } from '../../../src/shared/errors.js';
import {
  THREAD_PROTOCOL_VERSION,
  type CatalogMessage,
  type CallNotificationMessage,
  type ReplyMessage,
  type ServerNotificationMessage,
  type ServerStateMessage,
  type WorkerMessage,
} from '../../../src/shared/messages.js';
import {
  ShardHarness,
  fixtureServer,
  processExists,
  rawServer,
  resultText,
  tempDir,
} from '../../helpers/shard-harness.js';

const isCatalog =
  (server: string) =>
  (m: WorkerMessage): m is CatalogMessage =>
    m.type === 'catalog' && m.server === server;

function errorOf(reply: ReplyMessage): { code: number; message: string; data?: unknown } {
  if (reply.ok) throw new Error(`expected an error, got result ${reply.result}`);
  return reply.error;
}

function parsedResult(reply: ReplyMessage): Record<string, unknown> {
  if (!reply.ok) throw new Error(`expected a result, got error ${JSON.stringify(reply.error)}`);
  return JSON.parse(reply.result) as Record<string, unknown>;
}

async function echoStats(shard: ShardHarness, server: string) {
  return JSON.parse(resultText(await shard.tool(server, 'stats'))) as {
    calls: number;
    cancelled: number;
    cancelledRequestIds: unknown[];
  };
}

describe('shard with two echo servers and a paged server', () => {
  const analyticsPath = tempDir('shard-analytics-');
  const secretName = 'SHARD_TEST_PARENT_SECRET';
  let shard: ShardHarness;
  let stopped = false;

  before(async () => {
    // Set before the worker starts: the shard's children must not inherit it.
    process.env[secretName] = 'must-not-leak';
    shard = ShardHarness.start(
      [
        fixtureServer('echo-a', 'echo-server', {
          args: ['--label', 'a'],
          env: { GIVEN: 'from-config' },
        }),
        fixtureServer('echo-b', 'echo-server', { args: ['--label', 'b'] }),
        fixtureServer('paged', 'paged-server', { args: ['--tools', '45', '--page', '7'] }),
      ],
      { shard: 3, analyticsPath },
    );
    await Promise.all(['echo-a', 'echo-b', 'paged'].map((id) => shard.waitForState(id, 'ready')));
  });

  after(async () => {
    delete process.env[secretName];
    if (!stopped) await shard.terminate();
    rmSync(analyticsPath, { recursive: true, force: true });
  });

  it('sends ready first, then starting → catalog → ready per server', () => {
    assert.deepEqual(shard.messages[0], {
      type: 'ready',
      shard: 3,
      protocolVersion: THREAD_PROTOCOL_VERSION,
    });
    for (const id of ['echo-a', 'echo-b', 'paged']) {
      const starting = shard.messages.findIndex(
        (m) => m.type === 'server-state' && m.server === id && m.state === 'starting',
      );
      const catalog = shard.messages.findIndex(isCatalog(id));
      const ready = shard.messages.findIndex(
        (m) => m.type === 'server-state' && m.server === id && m.state === 'ready',
      );
      assert.ok(
        starting > 0 && starting < catalog && catalog < ready,
        `${id}: ${starting} ${catalog} ${ready}`,
      );
      const state = shard.messages[starting] as ServerStateMessage;
      assert.equal(typeof state.pid, 'number');
      assert.equal(state.restarts, 0);
    }
  });

  it('lists everything the echo server offers', async () => {
    const { catalog } = await shard.waitFor(isCatalog('echo-a'));
    assert.equal(catalog.protocolVersion, '2025-11-25');
    assert.equal(catalog.serverInfo['name'], 'a');
    assert.ok(catalog.capabilities['tools'] !== undefined);
    const tools = catalog.tools.map((t) => t['name']);
    for (const name of ['echo', 'add', 'whoami', 'slow', 'stats', 'progress', 'fail', 'bump']) {
      assert.ok(tools.includes(name), `missing tool ${name}`);
    }
    const add = catalog.tools.find((t) => t['name'] === 'add');
    assert.ok(add?.['outputSchema'] !== undefined, 'tool fields pass through untouched');
    assert.deepEqual(
      catalog.prompts.map((p) => p['name']),
      ['greet'],
    );
    assert.deepEqual(catalog.resources.map((r) => r['uri']).sort(), [
      'echo://counter',
      'echo://static',
    ]);
    assert.deepEqual(
      catalog.resourceTemplates.map((r) => r['uriTemplate']),
      ['echo://item/{id}'],
    );
  });

  it('follows nextCursor to the end of every paginated list', async () => {
    const { catalog } = await shard.waitFor(isCatalog('paged'));
    const expected = Array.from({ length: 45 }, (_, i) => `tool_${String(i).padStart(3, '0')}`);
    assert.deepEqual(
      catalog.tools.map((t) => t['name']),
      expected,
    );
    assert.equal(catalog.prompts.length, 9);
    assert.equal(catalog.resources.length, 9);
    assert.deepEqual(catalog.resourceTemplates, []);
  });

  it('round-trips a call and keeps the result as the backend sent it', async () => {
    assert.equal(
      resultText(await shard.tool('echo-a', 'echo', { text: 'héllo ✓ 🚀' })),
      'héllo ✓ 🚀',
    );
    const add = parsedResult(await shard.tool('echo-a', 'add', { a: 2, b: 40 }));
    assert.deepEqual(add['structuredContent'], { sum: 42 });
  });

  it('serves concurrent calls to two backends, each from its own process', async () => {
    const started = Date.now();
    const slow = await Promise.all([
      shard.tool('echo-a', 'slow', { ms: 400 }),
      shard.tool('echo-b', 'slow', { ms: 400 }),
    ]);
    assert.ok(Date.now() - started < 800, 'the two slow calls ran in parallel (in turn: ≥ 800 ms)');
    assert.deepEqual(slow.map(resultText), ['slept 400', 'slept 400']);
    const labels = await Promise.all(
      Array.from({ length: 40 }, (_, i) => shard.tool(i % 2 === 0 ? 'echo-a' : 'echo-b', 'whoami')),
    );
    assert.deepEqual(
      labels.map(resultText),
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 'a' : 'b')),
    );
  });

  it('passes JSON-RPC errors through untouched, data included', async () => {
    const notFound = errorOf(
      await shard.call('paged', 'resources/read', { uri: 'paged://r/nope' }).reply,
    );
    assert.deepEqual(notFound, {
      code: -32002,
      // The SDK server prefixes its own message; the director adds nothing.
      message: 'MCP error -32002: Resource not found: paged://r/nope',
      data: { uri: 'paged://r/nope' },
    });
    const unknown = errorOf(await shard.tool('paged', 'no_such_tool'));
    assert.equal(unknown.code, -32602);
    assert.match(unknown.message, /Unknown tool: no_such_tool/);
  });

  it('forwards prompts/get, resources/read and completion/complete', async () => {
    const prompt = parsedResult(
      await shard.call('echo-a', 'prompts/get', { name: 'greet', arguments: { name: 'Ada' } })
        .reply,
    );
    assert.deepEqual(prompt['messages'], [
      { role: 'user', content: { type: 'text', text: 'Hello, Ada!' } },
    ]);
    const item = parsedResult(
      await shard.call('echo-a', 'resources/read', { uri: 'echo://item/7' }).reply,
    );
    assert.deepEqual(item['contents'], [
      { uri: 'echo://item/7', mimeType: 'text/plain', text: 'item 7' },
    ]);
    const completion = parsedResult(
      await shard.call(
        'echo-a',
        'completion/complete',
        { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'name', value: 'al' } },
        { target: 'greet' },
      ).reply,
    );
    assert.deepEqual((completion['completion'] as { values: string[] }).values, [
      'alice',
      'albert',
    ]);
  });

  it('answers isError results as results', async () => {
    const reply = await shard.tool('echo-a', 'fail');
    assert.equal(parsedResult(reply)['isError'], true);
    assert.equal(resultText(reply), 'boom');
  });

  for (const token of ['client-token-1', 0, 7]) {
    it(`restores the client's progress token exactly (${typeof token} ${JSON.stringify(token)})`, async () => {
      const from = shard.messages.length;
      const { callId, reply } = shard.call('echo-a', 'tools/call', {
        name: 'progress',
        arguments: { steps: 3, delayMs: 5 },
        _meta: { progressToken: token },
      });
      assert.equal(resultText(await reply), 'done 3');
      const progress = shard.messages
        .slice(from)
        .filter(
          (m): m is CallNotificationMessage =>
            m.type === 'call-notification' && m.callId === callId,
        );
      assert.deepEqual(
        progress.map((m) => m.params),
        [1, 2, 3].map((i) => ({
          progressToken: token,
          progress: i,
          total: 3,
          message: `step ${i}`,
        })),
      );
    });
  }

  it('sends no progress when the client gave no token', async () => {
    const from = shard.messages.length;
    const { callId, reply } = shard.call('echo-a', 'tools/call', {
      name: 'progress',
      arguments: { steps: 2, delayMs: 1 },
    });
    await reply;
    assert.equal(
      shard.messages
        .slice(from)
        .filter((m) => m.type === 'call-notification' && m.callId === callId).length,
      0,
    );
  });

  it('cancels a call upstream and sends no reply for it', async () => {
    const before = await echoStats(shard, 'echo-b');
    const callId = shard.sendCall('echo-b', 'tools/call', {
      name: 'slow',
      arguments: { ms: 5000 },
    });
    await delay(150); // let the call reach the backend
    const from = shard.messages.length;
    shard.send({ type: 'cancel', callId, reason: 'client went away' });
    await delay(300);
    assert.equal(
      shard.messages.slice(from).some((m) => m.type === 'reply' && m.callId === callId),
      false,
      'a cancelled call gets no reply',
    );
    const after = await echoStats(shard, 'echo-b');
    assert.equal(after.cancelled, before.cancelled + 1);
    assert.equal(after.cancelledRequestIds.length, before.cancelledRequestIds.length + 1);
  });

  it('times a call out with BACKEND_TIMEOUT and cancels it upstream', async () => {
    const before = await echoStats(shard, 'echo-a');
    const started = Date.now();
    const reply = await shard.tool('echo-a', 'slow', { ms: 5000 }, { timeoutMs: 200 });
    assert.ok(Date.now() - started < 2000);
    const error = errorOf(reply);
    assert.equal(directorCodeOf(error), DirectorErrorCode.BackendTimeout);
    assert.equal(error.message, "Server 'echo-a' did not answer tools/call 'slow' within 200 ms");
    assert.equal((error.data as { server: string }).server, 'echo-a');
    await delay(100);
    const after = await echoStats(shard, 'echo-a');
    assert.equal(after.cancelled, before.cancelled + 1, 'the backend saw notifications/cancelled');
  });

  it('sends a new full catalog after tools/list_changed', async () => {
    const from = shard.messages.length;
    assert.equal(
      resultText(await shard.tool('echo-a', 'add_tool', { name: 'added_later' })),
      'added added_later',
    );
    const { catalog } = await shard.waitFor(isCatalog('echo-a'), { from });
    const names = catalog.tools.map((t) => t['name']);
    assert.ok(names.includes('added_later'));
    assert.ok(names.includes('echo'), 'the catalog is complete, not a delta');
    assert.deepEqual(
      catalog.resourceTemplates.map((r) => r['uriTemplate']),
      ['echo://item/{id}'],
    );
    assert.equal(resultText(await shard.tool('echo-a', 'added_later')), 'dynamic added_later');
  });

  it('forwards logging and resource-update notifications as server-notification', async () => {
    const from = shard.messages.length;
    const setLevel = await shard.call(
      'echo-b',
      'logging/setLevel',
      { level: 'info' },
      { target: 'info' },
    ).reply;
    assert.deepEqual(parsedResult(setLevel), {});
    const subscribe = await shard.call('echo-b', 'resources/subscribe', { uri: 'echo://counter' })
      .reply;
    assert.deepEqual(parsedResult(subscribe), {});
    await shard.tool('echo-b', 'log', { level: 'warning', message: 'careful' });
    await shard.tool('echo-b', 'log', { level: 'debug', message: 'filtered by the backend' });
    await shard.tool('echo-b', 'bump');
    const isNotification = (m: WorkerMessage): m is ServerNotificationMessage =>
      m.type === 'server-notification' && m.server === 'echo-b';
    await shard.waitFor(
      (m): m is ServerNotificationMessage =>
        isNotification(m) && m.method === 'notifications/resources/updated',
      { from },
    );
    const notes = shard.messages.slice(from).filter(isNotification);
    assert.deepEqual(
      notes.map((n) => [n.method, n.params]),
      [
        ['notifications/message', { level: 'warning', logger: 'echo', data: 'careful' }],
        ['notifications/resources/updated', { uri: 'echo://counter' }],
      ],
    );
  });

  it('gives children an allow-listed environment plus their configured env', async () => {
    assert.equal(resultText(await shard.tool('echo-a', 'env', { name: 'GIVEN' })), 'from-config');
    assert.equal(resultText(await shard.tool('echo-a', 'env', { name: secretName })), '');
    assert.equal(
      resultText(await shard.tool('echo-a', 'env', { name: 'PATH' })),
      process.env['PATH'],
    );
  });

  it('answers a call for a server it does not run with BACKEND_UNAVAILABLE', async () => {
    const error = errorOf(await shard.tool('elsewhere', 'echo', { text: 'x' }));
    assert.equal(directorCodeOf(error), DirectorErrorCode.BackendUnavailable);
    assert.match(error.message, /'elsewhere' is not run by shard 3/);
  });

  it('stops: in-flight calls get SHUTTING_DOWN, children exit, records are committed', async () => {
    const pids = shard.messages
      .filter((m): m is ServerStateMessage => m.type === 'server-state' && m.pid !== undefined)
      .map((m) => m.pid as number);
    const inFlight = shard.tool('echo-a', 'slow', { ms: 10_000 });
    await delay(100);
    const from = shard.messages.length;
    const exitCode = await shard.stop();
    stopped = true;
    assert.equal(exitCode, 0, 'the thread ends on its own once the task resolves');
    const error = errorOf(await inFlight);
    assert.equal(directorCodeOf(error), DirectorErrorCode.ShuttingDown);
    const finalStates = shard.messages
      .slice(from)
      .filter((m): m is ServerStateMessage => m.type === 'server-state')
      .map((m) => `${m.server}:${m.state}`)
      .sort();
    assert.deepEqual(finalStates, ['echo-a:stopped', 'echo-b:stopped', 'paged:stopped']);
    assert.equal(shard.messages.at(-1)?.type, 'stopped');
    for (const pid of pids) assert.equal(processExists(pid), false, `pid ${pid} is gone`);

    // Every forwarded call left exactly one record; statuses follow the replies.
    const replies = shard.messages.filter((m): m is ReplyMessage => m.type === 'reply');
    const cancelled = 1;
    const timeouts = replies.filter(
      (r) => !r.ok && directorCodeOf(r.error) === DirectorErrorCode.BackendTimeout,
    ).length;
    const errors =
      replies.filter((r) => !r.ok).length -
      timeouts +
      replies.filter(
        (r) => r.ok && (JSON.parse(r.result) as { isError?: boolean }).isError === true,
      ).length;
    const store = openAnalyticsStore(analyticsPath, { writerId: 'shard-test-reader' });
    try {
      const report = store.stats();
      assert.equal(report.total.calls, replies.length + cancelled);
      assert.equal(report.total.cancelled, cancelled);
      assert.equal(report.total.timeouts, timeouts);
      assert.equal(report.total.errors, errors);
      const echoA = report.servers.find((s) => s.server === 'echo-a');
      const slow = echoA?.tools.find((t) => t.tool === 'slow' && t.method === 'tools/call');
      assert.ok(
        slow !== undefined && slow.timeouts === 1 && slow.errors === 1,
        JSON.stringify(slow),
      );
      assert.ok(report.total.bytesIn > 0 && report.total.bytesOut > 0);
      assert.deepEqual(
        report.profiles.map((p) => p.profile),
        ['default'],
      );
    } finally {
      await store.close();
    }
  });
});

describe('shard backend failures', () => {
  let shard: ShardHarness;
  after(async () => {
    await shard.terminate();
  });

  before(async () => {
    shard = ShardHarness.start([
      fixtureServer('crashy', 'crash-server'),
      {
        ...fixtureServer('missing', 'crash-server'),
        command: 'mcp-director-no-such-command',
        args: [],
      },
      fixtureServer('broken', 'crash-server', { env: { CRASH_ON_START: '1' } }),
    ]);
    await shard.waitForState('crashy', 'ready');
  });

  it('answers calls in flight with BACKEND_EXITED, restarts, and is ready again', async () => {
    const firstPid = Number(resultText(await shard.tool('crashy', 'pid')));
    const from = shard.messages.length;
    const crash = await shard.tool('crashy', 'crash', { code: 7 });
    assert.deepEqual(errorOf(crash), {
      code: -31003,
      message:
        "Server 'crashy' exited (code 7) while handling tools/call 'crash'; it is being restarted",
      data: { director: DirectorErrorCode.BackendExited, server: 'crashy' },
    });
    const restarting = await shard.waitForState('crashy', 'restarting', from);
    assert.match(restarting.error ?? '', /exited with code 7/);
    assert.equal(restarting.pid, undefined, 'no pid while nothing runs');
    const unavailable = errorOf(await shard.tool('crashy', 'ping_me'));
    assert.equal(directorCodeOf(unavailable), DirectorErrorCode.BackendUnavailable);
    const ready = await shard.waitForState('crashy', 'ready', from);
    assert.equal(ready.restarts, 1);
    assert.notEqual(ready.pid, firstPid);
    assert.equal(resultText(await shard.tool('crashy', 'ping_me')), 'pong');
    assert.equal(Number(resultText(await shard.tool('crashy', 'pid'))), ready.pid);
  });

  it('marks a command that does not exist as failed, saying so', async () => {
    const failed = await shard.waitForState('missing', 'failed');
    assert.match(failed.error ?? '', /command 'mcp-director-no-such-command' was not found/);
    const error = errorOf(await shard.tool('missing', 'ping_me'));
    assert.equal(directorCodeOf(error), DirectorErrorCode.BackendUnavailable);
    assert.match(
      error.message,
      /^Server 'missing' is not available \(failed\): command .* was not found/,
    );
  });

  it('marks a server that exits at start as failed, with its stderr, and keeps retrying', async () => {
    const failed = await shard.waitForState('broken', 'failed');
    assert.match(failed.error ?? '', /^process exited with code 3; last stderr lines:\n/);
    assert.match(failed.error ?? '', /\n {2}crash-server: CRASH_ON_START=1, exiting with 3/);
    // The first retry comes 250 ms later and fails the same way, with a new restart count.
    const retried = await shard.waitFor(
      (m): m is ServerStateMessage =>
        m.type === 'server-state' &&
        m.server === 'broken' &&
        m.state === 'failed' &&
        m.restarts >= 1,
      { timeoutMs: 5000 },
    );
    assert.match(retried.error ?? '', /code 3/);
  });
});

describe('shard with a hand-written backend', () => {
  let shard: ShardHarness;
  before(async () => {
    shard = ShardHarness.start([rawServer('raw')]);
    await shard.waitForState('raw', 'ready');
  });
  after(async () => {
    await shard.terminate();
  });

  it('stops paging on a repeated cursor and leaves out a list the server cannot serve', async () => {
    const { catalog } = await shard.waitFor(isCatalog('raw'));
    assert.deepEqual(
      catalog.tools.map((t) => t['name']),
      ['t1', 't2'],
    );
    assert.deepEqual(catalog.resourceTemplates, []);
    assert.equal(catalog.instructions, 'raw instructions');
    assert.deepEqual(catalog.prompts, [], 'prompts were not declared, so not listed');
  });

  it('answers ping itself and sends other server-to-client requests to the calling client', async () => {
    const answers = JSON.parse(resultText(await shard.tool('raw', 'ask'))) as Record<
      string,
      unknown
    >;
    assert.deepEqual(answers['ping'], { jsonrpc: '2.0', id: 's1', result: {} });
    assert.deepEqual(answers['sampling'], {
      jsonrpc: '2.0',
      id: 's2',
      result: { answeredBy: 'harness', method: 'sampling/createMessage' },
    });
  });

  it('replaces a malformed answer with an internal error naming the server', async () => {
    assert.deepEqual(errorOf(await shard.tool('raw', 'malformed')), {
      code: -32603,
      message: "Server 'raw' answered tools/call 'malformed' with a malformed error",
      data: { server: 'raw', error: 'oops' },
    });
    assert.deepEqual(errorOf(await shard.tool('raw', 'empty')), {
      code: -32603,
      message: "Server 'raw' answered tools/call 'empty' with neither a result nor an error",
      data: { server: 'raw' },
    });
  });

  it('handles a JSON-RPC batch line', async () => {
    const from = shard.messages.length;
    assert.equal(resultText(await shard.tool('raw', 'batch')), 'batched');
    const note = shard.messages
      .slice(from)
      .find((m): m is ServerNotificationMessage => m.type === 'server-notification');
    assert.deepEqual(note?.params, { level: 'info', data: 'batched' });
  });

  it('re-applies the logging level and subscriptions after a restart', async () => {
    await shard.call('raw', 'logging/setLevel', { level: 'debug' }, { target: 'debug' }).reply;
    await shard.call('raw', 'resources/subscribe', { uri: 'raw://a' }).reply;
    await shard.call('raw', 'resources/subscribe', { uri: 'raw://b' }).reply;
    await shard.call('raw', 'resources/unsubscribe', { uri: 'raw://a' }).reply;
    const from = shard.messages.length;
    await shard.tool('raw', 'crash');
    await shard.waitForState('raw', 'ready', from);
    const received = JSON.parse(resultText(await shard.tool('raw', 'received'))) as {
      method: string;
      params?: unknown;
    }[];
    const replayed = received.filter(
      (r) => r.method === 'logging/setLevel' || r.method.startsWith('resources/'),
    );
    assert.deepEqual(
      replayed.slice(0, 2).sort((a, b) => a.method.localeCompare(b.method)),
      [
        { method: 'logging/setLevel', params: { level: 'debug' } },
        { method: 'resources/subscribe', params: { uri: 'raw://b' } },
      ],
    );
    // The era probe comes first; a legacy server refuses it and gets the handshake.
    assert.deepEqual(
      received.slice(0, 3).map((r) => r.method),
      ['server/discover', 'initialize', 'notifications/initialized'],
    );
  });
});

describe('shard stop escalation', () => {
  it('kills a child that ignores stdin close and SIGTERM with SIGKILL', async () => {
    const shard = ShardHarness.start([
      fixtureServer('stubborn', 'crash-server', { env: { IGNORE_SIGTERM: '1' } }),
    ]);
    try {
      const ready = await shard.waitForState('stubborn', 'ready');
      const pid = ready.pid as number;
      assert.equal(processExists(pid), true);
      const started = Date.now();
      await shard.stop();
      const took = Date.now() - started;
      assert.equal(processExists(pid), false, 'the stubborn child is gone');
      assert.equal(processExists(-pid), false, 'its process group is gone');
      // stdin close (2 s grace) and SIGTERM (2 s grace) were both ignored before SIGKILL.
      assert.ok(took >= 3900 && took < 10_000, `stop took ${took} ms`);
    } finally {
      await shard.terminate();
    }
  });
});

describe('shard without its supervisor', () => {
  it('stops its backends and ends when the port closes without stop', async () => {
    const shard = ShardHarness.start([fixtureServer('orphan-check', 'echo-server')]);
    try {
      const ready = await shard.waitForState('orphan-check', 'ready');
      assert.equal(await shard.disconnect(), 0);
      assert.equal(processExists(ready.pid as number), false);
    } finally {
      await shard.terminate();
    }
  });
});

describe('shard handshake', () => {
  it('refuses a supervisor that speaks another thread protocol', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      await assert.rejects(
        runShard({
          protocolVersion: THREAD_PROTOCOL_VERSION + 1,
          shard: 0,
          port: port2,
          servers: [],
          analyticsPath: null,
          dataDir: tempDir('shard-data-'),
          logLevel: 'error',
          limits: CONFIG_DEFAULTS.limits,
        }),
        new RegExp(
          `speaks thread protocol ${THREAD_PROTOCOL_VERSION + 1}, this worker speaks ${THREAD_PROTOCOL_VERSION}`,
        ),
      );
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('runs in-thread on a plain MessagePort and stops with no servers', async () => {
    const { port1, port2 } = new MessageChannel();
    const received: WorkerMessage[] = [];
    port1.on('message', (batch: WorkerMessage | WorkerMessage[]) => {
      const messages = Array.isArray(batch) ? batch : [batch];
      received.push(...messages);
      if (messages.some((m) => m.type === 'ready')) port1.postMessage({ type: 'stop' });
    });
    await runShard({
      protocolVersion: THREAD_PROTOCOL_VERSION,
      shard: 1,
      port: port2,
      servers: [],
      analyticsPath: null,
      dataDir: tempDir('shard-data-'),
      logLevel: 'error',
      limits: CONFIG_DEFAULTS.limits,
    });
    await delay(20);
    assert.deepEqual(received, [
      { type: 'ready', shard: 1, protocolVersion: THREAD_PROTOCOL_VERSION },
      { type: 'stopped' },
    ]);
    port1.close();
  });
});
