/**
 * `maskedConfig`, what the dashboard's config page shows: a real config, parsed as the daemon
 * parses it, keeps every name and setting but no secret value (env and header values, tokens,
 * URL passwords and query values), wherever the secret sits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../../src/shared/config/load.js';
import { MASK, maskedConfig } from '../../../../src/supervisor/admin/admin-views.js';

const SECRETS = {
  env: 'env-secret-value-1',
  header: 'header-secret-value-2',
  token: 'token-secret-value-3',
  admin: 'admin-secret-value-4',
  password: 'url-password-5',
  query: 'query-key-6',
};

const config = parseConfigText(
  JSON.stringify({
    mcpServers: {
      local: { command: 'node', args: ['server.js'], env: { API_KEY: SECRETS.env } },
      remote: {
        url: `https://user:${SECRETS.password}@example.com/mcp?api_key=${SECRETS.query}`,
        headers: { Authorization: `Bearer ${SECRETS.header}` },
      },
    },
    profiles: { a: { servers: ['local'] }, ops: {} },
    tokens: {
      alice: { token: SECRETS.token, profile: 'a' },
      root: { token: SECRETS.admin, profile: 'ops', admin: true },
    },
  }),
  '/tmp/config.json',
  {},
);

test('no secret value survives, wherever it was', () => {
  const text = JSON.stringify(maskedConfig(config));
  for (const [where, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `the ${where} secret is masked`);
  }
});

test('names and settings stay: which env, which header, which token, which URL', () => {
  const masked = maskedConfig(config) as {
    servers: Array<Record<string, unknown>>;
    tokens: Array<Record<string, unknown>>;
  };
  const local = masked.servers.find((s) => s['id'] === 'local');
  const remote = masked.servers.find((s) => s['id'] === 'remote');
  assert.deepEqual(local?.['env'], { API_KEY: MASK });
  assert.deepEqual(local?.['args'], ['server.js']);
  assert.deepEqual(remote?.['headers'], { Authorization: MASK });
  const url = new URL(String(remote?.['url']));
  assert.equal(url.username, 'user');
  assert.equal(url.host, 'example.com');
  assert.equal(url.pathname, '/mcp');
  assert.deepEqual([...url.searchParams.keys()], ['api_key']);
  assert.deepEqual(
    masked.tokens.map((t) => [t['name'], t['profile'], t['admin'], t['token']]),
    [
      ['alice', 'a', false, MASK],
      ['root', 'ops', true, MASK],
    ],
  );
});

test('the running config itself is left as it was', () => {
  maskedConfig(config);
  assert.equal(config.tokens[0]?.token, SECRETS.token);
});
