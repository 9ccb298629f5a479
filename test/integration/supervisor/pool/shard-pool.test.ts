/**
 * A shard's thread dying (docs/architecture.md#thread-contract,
 * docs/architecture.md#processes-and-failure): every call pending on it is answered
 * WORKER_EXITED, its backends' process groups are killed rather than orphaned, and the shard is
 * started again with fresh backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShardPool } from '../../../../src/supervisor/pool/shard-pool.js';
import { CONFIG_DEFAULTS } from '../../../../src/shared/config/defaults.js';
import type { DirectorConfig, ServerConfig } from '../../../../src/shared/config/types.js';
import type { ReplyMessage, ServerStateMessage } from '../../../../src/shared/messages.js';
import type { JsonObject } from '../../../../src/shared/json.js';
import { REPO_ROOT, alive, eventually } from '../../../helpers/daemon.js';
import { TEST_CONTEXT } from '../../../helpers/shard-harness.js';

const context = { ...TEST_CONTEXT, session: 's', client: 'test' };

function config(servers: ServerConfig[]): DirectorConfig {
  return {
    source: 'test',
    servers,
    listen: { host: '127.0.0.1', port: 0 },
    workers: 1,
    dataDir: mkdtempSync(join(tmpdir(), 'mcpd-pool-')),
    analytics: { enabled: false, retentionDays: 0, maxSizeMB: 1024 },
    telemetry: { otlp: null },
    maxBodyBytes: 1 << 20,
    pageSize: 100,
    allowedOrigins: [],
    sessionIdleMs: 60_000,
    profiles: {},
    tokens: [],
    requireToken: false,
    oauth: null,
    cluster: null,
    projectRoots: [],
    projects: [],
    limits: { ...CONFIG_DEFAULTS.limits },
  };
}

function call(pool: ShardPool, name: string, args: JsonObject): Promise<ReplyMessage> {
  return new Promise((resolve) => {
    pool.route(
      {
        server: 'echo',
        method: 'tools/call',
        params: { name, arguments: args },
        target: name,
        context,
      },
      {
        reply: resolve,
        notification: () => undefined,
        clientRequest: (_method, _params, answer) => answer({ ok: true, result: {} }),
      },
    );
  });
}

test(
  'a dead shard thread fails its calls, leaves no orphan, and comes back',
  { timeout: 60_000 },
  async () => {
    const states: ServerStateMessage[] = [];
    const echo: ServerConfig = {
      transport: 'stdio',
      id: 'echo',
      command: process.execPath,
      args: [join(REPO_ROOT, 'dist/test/fixtures/echo-server.js')],
      env: {},
      cwd: REPO_ROOT,
      prefix: 'echo',
      timeoutMs: 30_000,
      share: 'global',
      start: 'eager',
      idleStopMs: 0,
      initializeTimeoutMs: 60_000,
    };
    const pool = new ShardPool(config([echo]));
    pool.onEvents({
      serverState: (m) => void states.push(m),
      catalog: () => undefined,
      notification: () => undefined,
      callStats: () => undefined,
      calls: () => undefined,
    });
    await pool.start();
    try {
      const firstReady = await eventually(
        () => states.find((s) => s.state === 'ready'),
        10_000,
        'ready',
      );
      const pid = firstReady.pid as number;
      assert.ok(alive(pid));

      const pending = call(pool, 'slow', { ms: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [thread] = pool.threads;
      assert.ok(thread !== undefined);
      await thread.terminate();

      const reply = await pending;
      assert.equal(reply.ok, false);
      if (!reply.ok) {
        assert.equal(reply.error.code, -31004);
        assert.match(reply.error.message, /worker thread owning server 'echo' died/);
      }
      await eventually(
        () => (alive(pid) ? undefined : true),
        5000,
        'the orphaned backend to be killed',
      );
      assert.ok(
        states.some((s) => s.state === 'restarting' && /worker thread died/.test(s.error ?? '')),
      );

      const again = await eventually(
        () => states.find((s) => s.state === 'ready' && s.pid !== pid),
        15_000,
        'the shard and its backend to come back',
      );
      assert.ok(alive(again.pid as number));
      const echoed = await call(pool, 'echo', { text: 'back' });
      assert.equal(echoed.ok, true);
      if (echoed.ok) assert.match(echoed.result, /"back"/);
    } finally {
      await pool.stop();
    }
  },
);
