/**
 * diffConfigs (config hot reload): servers added, removed, changed and reordered, and which
 * other settings apply live and which need a restart.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deepEqual, diffConfigs } from '../../../../src/shared/config/diff.js';
import type { DirectorConfig, ServerConfig } from '../../../../src/shared/config/types.js';

function stdio(id: string, extra: Partial<ServerConfig> = {}): ServerConfig {
  return {
    transport: 'stdio',
    id,
    command: 'node',
    args: [`${id}.js`],
    env: { A: '1', B: '2' },
    cwd: '/srv',
    prefix: id,
    timeoutMs: 60_000,
    share: 'global',
    start: 'eager',
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
    ...extra,
  } as ServerConfig;
}

function http(id: string): ServerConfig {
  return {
    transport: 'http',
    id,
    url: `https://example.com/${id}`,
    headers: {},
    auth: { mode: 'auto', scopes: [] },
    httpTransport: 'auto',
    prefix: id,
    timeoutMs: 60_000,
    share: 'global',
    start: 'eager',
    idleStopMs: 0,
    initializeTimeoutMs: 60_000,
  };
}

/** A config as load.ts makes it; the cast leaves room for settings other changes add. */
function config(servers: ServerConfig[], extra: Record<string, unknown> = {}): DirectorConfig {
  return {
    source: '/home/me/.config/mcp-director/config.json',
    servers,
    listen: { host: '127.0.0.1', port: 8765 },
    workers: 2,
    dataDir: '/home/me/.local/share/mcp-director',
    analytics: { enabled: true, retentionDays: 30, maxSizeMB: 1024 },
    maxBodyBytes: 4 << 20,
    pageSize: 100,
    allowedOrigins: [],
    sessionIdleMs: 1_800_000,
    profiles: { default: { name: 'default', servers: ['a', 'b'] } },
    tokens: [],
    ...extra,
  } as unknown as DirectorConfig;
}

const empty = {
  added: [],
  removed: [],
  changed: [],
  reordered: false,
  needsRestart: [],
  live: [],
};

describe('diffConfigs', () => {
  test('identical configs (distinct objects, other key order) differ in nothing', () => {
    const a = config([stdio('a'), http('b')]);
    const b = config([stdio('a', { env: { B: '2', A: '1' } }), http('b')]);
    assert.deepEqual(diffConfigs(a, b), empty);
  });

  test('servers added and removed, in config order', () => {
    const diff = diffConfigs(
      config([stdio('a'), stdio('b'), stdio('c')]),
      config([stdio('b'), stdio('d'), stdio('e')]),
    );
    assert.deepEqual(
      diff.added.map((s) => s.id),
      ['d', 'e'],
    );
    assert.deepEqual(diff.removed, ['a', 'c']);
    assert.deepEqual(diff.changed, []);
    assert.equal(diff.reordered, false);
  });

  test('a changed entry is reported with its new config, whatever field changed', () => {
    const cases: Array<Partial<ServerConfig>> = [
      { args: ['b.js', '--verbose'] },
      { env: { A: '1', B: '3' } },
      { env: { A: '1' } },
      { cwd: '/elsewhere' },
      { prefix: 'bee' },
      { timeoutMs: 5000 },
      { share: 'session' },
      { command: 'bun' },
    ];
    for (const change of cases) {
      const next = stdio('b', change);
      const diff = diffConfigs(config([stdio('a'), stdio('b')]), config([stdio('a'), next]));
      assert.deepEqual(diff.changed, [next], JSON.stringify(change));
      assert.deepEqual(diff.added, []);
      assert.deepEqual(diff.removed, []);
    }
  });

  test('a server switching transport is a changed entry', () => {
    const next = { ...http('a') };
    assert.deepEqual(diffConfigs(config([stdio('a')]), config([next])).changed, [next]);
  });

  test('reordered: the kept servers appear in another order', () => {
    const [a, b, c] = [stdio('a'), stdio('b'), stdio('c')];
    assert.equal(diffConfigs(config([a, b, c]), config([b, a, c])).reordered, true);
    assert.equal(diffConfigs(config([a, b, c]), config([a, c, b])).reordered, true);
    // Adding or removing around the kept ones is not a reordering.
    assert.equal(diffConfigs(config([a, b, c]), config([stdio('z'), a, c])).reordered, false);
    assert.equal(diffConfigs(config([a, c]), config([a, b, c])).reordered, false);
    const diff = diffConfigs(config([a, b]), config([b, a]));
    assert.deepEqual({ ...diff, reordered: false }, empty);
  });

  test('settings read at start need a restart, named by their path', () => {
    const before = config([]);
    const diff = diffConfigs(
      before,
      config([], {
        listen: { host: '0.0.0.0', port: 9000 },
        workers: 4,
        dataDir: '/data',
        analytics: { enabled: false, retentionDays: 7, maxSizeMB: 1024 },
        maxBodyBytes: 1024,
      }),
    );
    assert.deepEqual(diff.needsRestart, [
      'analytics.enabled',
      'analytics.retentionDays',
      'dataDir',
      'listen.host',
      'listen.port',
      'maxBodyBytes',
      'workers',
    ]);
    assert.deepEqual(diff.live, []);
    const portOnly = diffConfigs(before, config([], { listen: { host: '127.0.0.1', port: 1 } }));
    assert.deepEqual(portOnly.needsRestart, ['listen.port']);
  });

  test('other settings apply live, known or not', () => {
    const diff = diffConfigs(
      config([]),
      config([], {
        pageSize: 10,
        allowedOrigins: ['https://app.example'],
        sessionIdleMs: 1000,
        profiles: { default: { name: 'default', servers: ['a'] } },
        tokens: [{ name: 't', token: 'secret', profile: 'default' }],
        someFutureSetting: { on: true },
      }),
    );
    assert.deepEqual(diff.live, [
      'allowedOrigins',
      'pageSize',
      'profiles',
      'sessionIdleMs',
      'someFutureSetting',
      'tokens',
    ]);
    assert.deepEqual(diff.needsRestart, []);
  });

  test('a setting that appears or disappears counts as changed', () => {
    const withIt = config([], { requireToken: true });
    const without = config([]);
    assert.deepEqual(diffConfigs(without, withIt).live, ['requireToken']);
    assert.deepEqual(diffConfigs(withIt, without).live, ['requireToken']);
  });

  test('the source of the config is not a setting', () => {
    const diff = diffConfigs(config([]), config([], { source: '/elsewhere.json' }));
    assert.deepEqual(diff, empty);
  });

  test('everything at once', () => {
    const diff = diffConfigs(
      config([stdio('a'), stdio('b'), stdio('c')]),
      config([stdio('c'), stdio('b', { timeoutMs: 1 }), stdio('d')], {
        listen: { host: '127.0.0.1', port: 1 },
        pageSize: 5,
      }),
    );
    assert.deepEqual(
      diff.added.map((s) => s.id),
      ['d'],
    );
    assert.deepEqual(diff.removed, ['a']);
    assert.deepEqual(
      diff.changed.map((s) => s.id),
      ['b'],
    );
    assert.equal(diff.reordered, true);
    assert.deepEqual(diff.needsRestart, ['listen.port']);
    assert.deepEqual(diff.live, ['pageSize']);
  });
});

describe('deepEqual', () => {
  test('JSON semantics', () => {
    assert.equal(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
    assert.equal(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
    assert.equal(deepEqual([1, 2], [2, 1]), false);
    assert.equal(deepEqual({ a: undefined }, {}), true);
    assert.equal(deepEqual({ a: null }, {}), false);
    assert.equal(deepEqual([], {}), false);
    assert.equal(deepEqual('1', 1), false);
    assert.equal(deepEqual(null, null), true);
    assert.equal(deepEqual(NaN, NaN), true);
  });
});
