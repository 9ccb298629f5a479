/**
 * Config hot reload, below the supervisor: servers added to, removed from and replaced in
 * running shards (`ShardPool.addServer/removeServer/replaceServer`, the `add-server` and
 * `remove-server` thread messages), with real worker threads and real fixture processes.
 * Every other server keeps its process and its calls.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardPool } from '../../../../src/supervisor/pool/shard-pool.js';
import { CONFIG_DEFAULTS } from '../../../../src/shared/config/defaults.js';
import type { DirectorConfig, ServerConfig } from '../../../../src/shared/config/types.js';
import { DirectorErrorCode, directorCodeOf } from '../../../../src/shared/errors.js';
import type {
  ReplyMessage,
  ServerStateMessage,
  WorkerMessage,
} from '../../../../src/shared/messages.js';
import type { JsonObject } from '../../../../src/shared/json.js';
import { alive, eventually } from '../../../helpers/daemon.js';
import {
  ShardHarness,
  TEST_CONTEXT,
  fixtureServer,
  resultText,
  tempDir,
} from '../../../helpers/shard-harness.js';

const context = { ...TEST_CONTEXT, session: '', client: 'test' };

function poolConfig(servers: ServerConfig[], workers: number): DirectorConfig {
  // Cast: settings the shards never read (profiles, tokens, …) are left out.
  return {
    source: 'test',
    servers,
    listen: { host: '127.0.0.1', port: 0 },
    workers,
    dataDir: tempDir('mcpd-reconfigure-'),
    analytics: { enabled: false, retentionDays: 0, maxSizeMB: 1024 },
    telemetry: { otlp: null },
    maxBodyBytes: 1 << 20,
    pageSize: 100,
    allowedOrigins: [],
    sessionIdleMs: 60_000,
    limits: { ...CONFIG_DEFAULTS.limits },
  } as unknown as DirectorConfig;
}

function echo(id: string, label = id): ServerConfig {
  return fixtureServer(id, 'echo-server', { args: ['--label', label] });
}

/** A stdio "server" that never answers and ignores stdin closing and SIGTERM. */
function stubborn(id: string): ServerConfig {
  return {
    ...fixtureServer(id, 'echo-server'),
    args: ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000);'],
  };
}

class PoolUnderTest {
  readonly states: ServerStateMessage[] = [];
  readonly catalogs: string[] = [];
  readonly pool: ShardPool;

  constructor(servers: ServerConfig[], workers: number) {
    this.pool = new ShardPool(poolConfig(servers, workers));
    this.pool.onEvents({
      serverState: (m) => void this.states.push(m),
      catalog: (m) => void this.catalogs.push(m.server),
      notification: () => undefined,
      callStats: () => undefined,
      calls: () => undefined,
    });
  }

  call(server: string, name: string, args: JsonObject = {}): Promise<ReplyMessage> {
    return new Promise((resolve) => {
      this.pool.route(
        { server, method: 'tools/call', params: { name, arguments: args }, target: name, context },
        {
          reply: resolve,
          notification: () => undefined,
          clientRequest: (_method, _params, answer) => answer({ ok: true, result: {} }),
        },
      );
    });
  }

  /** The pid of `server`'s `state` reported at or after index `from` of `states`. */
  async state(server: string, state: string, from = 0, timeoutMs = 15_000) {
    return eventually(
      () => this.states.slice(from).find((s) => s.server === server && s.state === state),
      timeoutMs,
      `${server} to be ${state}`,
    );
  }

  async readyPid(server: string, from = 0): Promise<number> {
    const ready = await this.state(server, 'ready', from);
    assert.ok(ready.pid !== undefined, `${server} reported no pid`);
    return ready.pid;
  }
}

/** Resolves with `promise`'s value, or rejects after `ms` naming `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function assertError(reply: ReplyMessage, code: DirectorErrorCode, message: RegExp): void {
  assert.equal(reply.ok, false, `expected an error, got ${JSON.stringify(reply)}`);
  if (reply.ok) return;
  assert.equal(directorCodeOf(reply.error), code, JSON.stringify(reply.error));
  assert.match(reply.error.message, message);
}

describe('ShardPool: servers added, removed and replaced at runtime', { timeout: 120_000 }, () => {
  const under = new PoolUnderTest([echo('stable')], 2);
  let stablePid = 0;

  before(async () => {
    await under.pool.start();
    stablePid = await under.readyPid('stable');
  });

  after(async () => {
    await under.pool.stop();
  });

  test('an added server starts, gets a catalog and answers calls', async () => {
    const from = under.states.length;
    under.pool.addServer(echo('extra', 'first'));
    assert.equal(under.pool.shardOf('extra') !== undefined, true);
    const pid = await under.readyPid('extra', from);
    assert.ok(alive(pid));
    assert.ok(under.catalogs.includes('extra'));
    assert.equal(resultText(await under.call('extra', 'whoami')), 'first');
    assert.throws(() => under.pool.addServer(echo('extra')), /already configured/);
  });

  test('a removed server stops, its process is gone and its calls say so', async () => {
    const pid = await under.readyPid('extra');
    const inFlight = under.call('extra', 'slow', { ms: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const from = under.states.length;
    await within(under.pool.removeServer('extra'), 10_000, 'removeServer');
    assert.equal(alive(pid), false, 'the removed server process still runs');
    const last = under.states.filter((s) => s.server === 'extra').at(-1);
    assert.equal(last?.state, 'stopped');
    assert.ok(under.states.slice(from).some((s) => s.server === 'extra' && s.state === 'stopped'));
    assertError(
      await within(inFlight, 1000, 'the in-flight reply'),
      DirectorErrorCode.ServerRemoved,
      /^Server 'extra' was removed from the config$/,
    );
    assertError(
      await under.call('extra', 'echo', { text: 'x' }),
      DirectorErrorCode.BackendUnavailable,
      /^Server 'extra' is not configured$/,
    );
    assert.equal(under.pool.shardOf('extra'), undefined);
    // Removing it again, or an id never configured, is a no-op.
    await within(under.pool.removeServer('extra'), 100, 'a second removeServer');
    await within(under.pool.removeServer('never-there'), 100, 'removeServer of an unknown id');
    assert.equal(await under.readyPid('stable'), stablePid);
    assert.ok(alive(stablePid));
  });

  test('a replaced server runs its new entry in a new process', async () => {
    let from = under.states.length;
    under.pool.addServer(echo('swap', 'old'));
    const oldPid = await under.readyPid('swap', from);
    from = under.states.length;
    await within(under.pool.replaceServer(echo('swap', 'new')), 10_000, 'replaceServer');
    assert.equal(alive(oldPid), false);
    const newPid = await under.readyPid('swap', from);
    assert.notEqual(newPid, oldPid);
    assert.equal(resultText(await under.call('swap', 'whoami')), 'new');
    // The states in order: the old one stopped before the new one started.
    const swap = under.states.slice(from).filter((s) => s.server === 'swap');
    assert.deepEqual(
      swap.map((s) => s.state),
      ['stopped', 'starting', 'ready'],
    );
  });

  test('an entry added back before its removal finished starts after the old one', async () => {
    const oldPid = (await under.state('swap', 'ready')).pid;
    const from = under.states.length;
    const removed = under.pool.removeServer('swap');
    under.pool.addServer(echo('swap', 'again'));
    await within(removed, 10_000, 'removeServer');
    const newPid = await under.readyPid('swap', from);
    assert.notEqual(newPid, oldPid);
    assert.equal(alive(oldPid as number), false);
    assert.equal(resultText(await under.call('swap', 'whoami')), 'again');
    const swap = under.states.slice(from).filter((s) => s.server === 'swap');
    assert.deepEqual(
      swap.map((s) => s.state),
      ['stopped', 'starting', 'ready'],
    );
  });

  test('adding and removing servers leaves calls to other servers alone', async () => {
    const slow = under.call('stable', 'slow', { ms: 1500 });
    const quick = Array.from({ length: 20 }, (_, i) =>
      under.call('stable', 'echo', { text: `n${i}` }),
    );
    const from = under.states.length;
    under.pool.addServer(echo('brief'));
    under.pool.addServer(echo('other'));
    // Removed while it is still starting.
    await within(under.pool.removeServer('brief'), 10_000, 'removeServer while starting');
    await under.readyPid('other', from);
    await within(under.pool.removeServer('other'), 10_000, 'removeServer');
    const replies = await within(Promise.all(quick), 10_000, 'the quick calls');
    assert.deepEqual(
      replies.map((r) => resultText(r)),
      Array.from({ length: 20 }, (_, i) => `n${i}`),
    );
    assert.equal(resultText(await within(slow, 10_000, 'the slow call')), 'slept 1500');
    assert.equal(await under.readyPid('stable'), stablePid);
    assert.ok(alive(stablePid));
    assert.ok(
      !under.states.slice(from).some((s) => s.server === 'stable'),
      'the other server changed state',
    );
  });

  test('a server that does not stop in time is killed after the grace period', async () => {
    const from = under.states.length;
    under.pool.addServer(stubborn('stuck'));
    const starting = await eventually(
      () =>
        under.states
          .slice(from)
          .find((s) => s.server === 'stuck' && s.state === 'starting' && s.pid !== undefined),
      10_000,
      'stuck to start',
    );
    const pid = starting.pid as number;
    const before = Date.now();
    await within(under.pool.removeServer('stuck', 300), 5000, 'removeServer with a grace');
    assert.ok(Date.now() - before < 2000, 'the removal waited for the worker');
    await eventually(() => (alive(pid) ? undefined : true), 2000, 'the stuck process to die');
    assert.equal(under.states.filter((s) => s.server === 'stuck').at(-1)?.state, 'stopped');
  });

  test('stop() also stops servers added later', async () => {
    const from = under.states.length;
    under.pool.addServer(echo('late'));
    const latePid = await under.readyPid('late', from);
    await within(under.pool.stop(), 20_000, 'stop');
    assert.equal(alive(latePid), false);
    assert.equal(alive(stablePid), false);
  });
});

describe('shard worker: add-server and remove-server', { timeout: 60_000 }, () => {
  test('removing a per-session server stops its session instances first', async () => {
    const shard = ShardHarness.start([]);
    try {
      await shard.waitFor((m): m is WorkerMessage => m.type === 'ready');
      const config: ServerConfig = { ...echo('per-session'), share: 'session' };
      shard.send({ type: 'add-server', server: config });
      const shared = await shard.waitForState('per-session', 'ready');
      // The session's own instance starts on the session's first call.
      assert.equal(resultText(await shard.tool('per-session', 'whoami')), 'per-session');
      const own = shard.messages.find(
        (m): m is ServerStateMessage =>
          m.type === 'server-state' && m.session === TEST_CONTEXT.session && m.pid !== undefined,
      );
      assert.ok(own?.pid !== undefined && shared.pid !== undefined);
      const inFlight = shard.call('per-session', 'tools/call', {
        name: 'slow',
        arguments: { ms: 20_000 },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const from = shard.messages.length;
      shard.send({ type: 'remove-server', server: 'per-session' });
      assertError(
        await inFlight.reply,
        DirectorErrorCode.ServerRemoved,
        /^Server 'per-session' was removed from the config$/,
      );
      const stopped = await shard.waitFor(
        (m): m is ServerStateMessage =>
          m.type === 'server-state' &&
          m.server === 'per-session' &&
          m.state === 'stopped' &&
          m.session === undefined,
        { from, timeoutMs: 10_000 },
      );
      // The shared instance's `stopped` is the last word about the server.
      const after = shard.messages.slice(shard.messages.indexOf(stopped) + 1);
      assert.ok(!after.some((m) => 'server' in m && m.server === 'per-session'));
      assert.ok(
        shard.messages
          .slice(from, shard.messages.indexOf(stopped))
          .some(
            (m) =>
              m.type === 'server-state' &&
              m.session === TEST_CONTEXT.session &&
              m.state === 'stopped',
          ),
      );
      assert.equal(alive(shared.pid), false);
      assert.equal(alive(own.pid), false);
      assertError(
        await shard.tool('per-session', 'whoami'),
        DirectorErrorCode.BackendUnavailable,
        /not run by shard 0/,
      );
      assert.equal(await shard.stop(), 0);
    } finally {
      await shard.terminate();
    }
  });

  test('a server waiting to restart is removed with one stopped and no restart', async () => {
    const shard = ShardHarness.start([]);
    try {
      const missing: ServerConfig = {
        ...fixtureServer('missing', 'echo-server'),
        command: 'mcp-director-no-such-command',
        args: [],
      };
      shard.send({ type: 'add-server', server: missing });
      await shard.waitForState('missing', 'failed');
      const from = shard.messages.length;
      shard.send({ type: 'remove-server', server: 'missing' });
      await shard.waitForState('missing', 'stopped', from, 5000);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // past its next retry
      const after = shard.messages.slice(from).filter((m) => 'server' in m);
      assert.deepEqual(
        after.map((m) => `${m.type}:${m.type === 'server-state' ? m.state : ''}`),
        ['server-state:stopped'],
      );
      assert.equal(await shard.stop(), 0);
    } finally {
      await shard.terminate();
    }
  });

  test('an add during a removal of the same id starts after it; unknown ids stop at once', async () => {
    const shard = ShardHarness.start([echo('twin', 'one')]);
    try {
      const first = await shard.waitForState('twin', 'ready');
      const from = shard.messages.length;
      shard.send({ type: 'remove-server', server: 'twin' });
      // Calls during the removal are refused, naming the removal.
      const during = shard.tool('twin', 'whoami');
      shard.send({ type: 'add-server', server: echo('twin', 'two') });
      assertError(
        await during,
        DirectorErrorCode.BackendUnavailable,
        /^Server 'twin' was removed from the config$/,
      );
      const second = await shard.waitForState('twin', 'ready', from);
      const states = shard.messages
        .slice(from)
        .filter((m): m is ServerStateMessage => m.type === 'server-state' && m.server === 'twin')
        .map((m) => m.state);
      assert.deepEqual(states, ['stopped', 'starting', 'ready']);
      assert.equal(alive(first.pid as number), false);
      assert.equal(resultText(await shard.tool('twin', 'whoami')), 'two');

      const mark = shard.messages.length;
      shard.send({ type: 'remove-server', server: 'ghost' });
      const ghost = await shard.waitForState('ghost', 'stopped', mark, 2000);
      assert.equal(ghost.pid, undefined);
      assert.ok(alive(second.pid as number));
      assert.equal(await shard.stop(), 0);
      assert.equal(alive(second.pid as number), false);
    } finally {
      await shard.terminate();
    }
  });
});
