import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../../src/shared/config/load.js';
import { forIdentity, withoutTokenRefs } from '../../../../src/shared/config/token-refs.js';
import type { HttpServerConfig } from '../../../../src/shared/config/types.js';

/** A remote per-identity server whose headers take the caller's token values. */
function remote(): HttpServerConfig {
  const config = parseConfigText(
    JSON.stringify({
      mcpServers: {
        gh: {
          url: 'https://mcp.example.com/mcp',
          share: 'identity',
          headers: {
            Authorization: 'Bearer ${token.PAT}',
            'X-Org': '${token.ORG:-${DEFAULT_ORG}}',
            'X-Client': 'director',
          },
        },
      },
      tokens: {
        alice: { token: 'a'.repeat(32), secrets: { PAT: 'alice-pat', ORG: 'acme' } },
        bob: { token: 'b'.repeat(32), secrets: { PAT: 'bob-pat' } },
        carol: { token: 'c'.repeat(32) },
      },
    }),
    '/tmp/config.json',
    { HOME: '/home/u', DEFAULT_ORG: 'shared-org' },
  );
  return config.servers[0] as HttpServerConfig;
}

describe('${token.NAME} references', () => {
  test('each token gets its own values, else the default', () => {
    const alice = forIdentity(remote(), 'alice');
    const bob = forIdentity(remote(), 'bob');
    assert.ok(alice.ok && bob.ok);
    assert.deepEqual((alice.config as HttpServerConfig).headers, {
      Authorization: 'Bearer alice-pat',
      'X-Org': 'acme',
      'X-Client': 'director',
    });
    assert.deepEqual((bob.config as HttpServerConfig).headers, {
      Authorization: 'Bearer bob-pat',
      'X-Org': 'shared-org',
      'X-Client': 'director',
    });
  });

  test('a token or user without a value and without a default gets the names it lacks', () => {
    assert.deepEqual(forIdentity(remote(), 'carol'), { ok: false, missing: ['PAT'] });
    assert.deepEqual(forIdentity(remote(), 'oauth-0123456789abcdef0123456789abcdef'), {
      ok: false,
      missing: ['PAT'],
    });
    assert.deepEqual(forIdentity(remote(), '__proto__'), { ok: false, missing: ['PAT'] });
  });

  test("the shared instance keeps defaults and drops what only a token's value fills", () => {
    assert.deepEqual((withoutTokenRefs(remote()) as HttpServerConfig).headers, {
      'X-Org': 'shared-org',
      'X-Client': 'director',
    });
    assert.equal(JSON.stringify(withoutTokenRefs(remote())).includes('pat'), false);
  });
});
