/**
 * Bearer JWTs against a real issuer stand-in (test/helpers/test-issuer.ts: metadata and key set
 * over HTTP on 127.0.0.1, tokens signed with jose). Valid tokens map to profiles by their
 * claims; expired, wrong-audience, wrong-issuer, unsigned and foreign-key tokens are refused
 * with a reason; the audiences a daemon accepts come from its resource URLs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UnsecuredJWT } from 'jose';
import { BearerJwts, oauthIdentity } from '../../../../src/supervisor/ingress/bearer-jwts.js';
import { PROFILE_NAME_PATTERN } from '../../../../src/shared/config/access-schema.js';
import { ProtectedResource } from '../../../../src/supervisor/ingress/protected-resource.js';
import type { OauthIngressConfig } from '../../../../src/shared/config/types.js';
import {
  startTestIssuer,
  type SignOptions,
  type TestIssuer,
} from '../../../helpers/test-issuer.js';

const AUDIENCE = 'http://127.0.0.1:8765/mcp';

describe('BearerJwts', () => {
  let testIssuer: TestIssuer;
  let issuer: string;
  let config: (overrides?: Partial<OauthIngressConfig>) => OauthIngressConfig;
  const jwtsFor = (overrides: Partial<OauthIngressConfig> = {}) =>
    new BearerJwts(config(overrides));

  before(async () => {
    testIssuer = await startTestIssuer();
    issuer = testIssuer.url;
    config = (overrides = {}) => ({
      issuer,
      jwksUri: null,
      resource: null,
      audience: null,
      scopes: [],
      profiles: [
        { claim: 'groups', value: 'ops', profile: 'ops', admin: true },
        { claim: 'sub', value: 'alice', profile: 'a', admin: false },
      ],
      defaultProfile: null,
      ...overrides,
    });
  });
  after(() => testIssuer.close());

  const sign = (claims: Record<string, unknown>, options: SignOptions = {}) =>
    testIssuer.sign(claims, AUDIENCE, options);

  async function verdictOf(
    jwts: BearerJwts,
    token: string,
    audience: string | string[] = AUDIENCE,
  ) {
    await jwts.prepare({ authorization: `Bearer ${token}` }, audience);
    return jwts.verdict(token);
  }

  test("an OAuth user's identity is per issuer and can never be a token's name", async () => {
    const identity = oauthIdentity('https://a.example', 'alice');
    assert.match(identity, /^oauth-[0-9a-f]{32}$/);
    assert.notEqual(identity, oauthIdentity('https://b.example', 'alice'));
    assert.notEqual(identity, oauthIdentity('https://a.example', 'alice2'));
    // Token names follow PROFILE_NAME_PATTERN (at most 32 characters).
    assert.equal(PROFILE_NAME_PATTERN.test(identity), false);
    const anonymous = await verdictOf(jwtsFor(), await sign({ groups: ['ops'] }));
    assert.equal(anonymous?.ok === true && anonymous.identity, null, 'no sub: nobody');
  });

  test('claims map to profiles, first rule first; the verdict is cached until expiry', async () => {
    const jwts = jwtsFor();
    const ops = await sign({ sub: 'alice', groups: ['dev', 'ops'] });
    assert.deepEqual(await verdictOf(jwts, ops), {
      ok: true,
      profile: 'ops',
      admin: true,
      subject: 'alice',
      identity: oauthIdentity(testIssuer.url, 'alice'),
    });
    const alice = await sign({ sub: 'alice' });
    assert.deepEqual(await verdictOf(jwts, alice), {
      ok: true,
      profile: 'a',
      admin: false,
      subject: 'alice',
      identity: oauthIdentity(testIssuer.url, 'alice'),
    });
    assert.equal(jwts.prepare({ authorization: `Bearer ${alice}` }, AUDIENCE), undefined, 'cached');
    const bob = await sign({ sub: 'bob' });
    assert.deepEqual(await verdictOf(jwts, bob), {
      ok: false,
      error: 'insufficient_scope',
      description: "no profile is mapped to this token's claims (oauth.profiles)",
    });
    const withDefault = jwtsFor({ defaultProfile: 'default' });
    assert.equal((await verdictOf(withDefault, bob))?.ok, true);
  });

  test('expired, wrong audience, wrong issuer, unsigned and foreign-key tokens are refused', async () => {
    const jwts = jwtsFor();
    const cases: [string, RegExp][] = [
      [await sign({ sub: 'alice' }, { exp: '-1m' }), /expired/],
      [await sign({ sub: 'alice' }, { aud: 'http://elsewhere/mcp' }), /"aud" claim/],
      [await sign({ sub: 'alice' }, { iss: 'http://127.0.0.1:1/other' }), /"iss" claim/],
      [
        new UnsecuredJWT({ sub: 'alice' }).setIssuer(issuer).setAudience(AUDIENCE).encode(),
        /accepted algorithm|malformed/,
      ],
      [await sign({ sub: 'alice' }, { with: testIssuer.foreignKey }), /signature does not verify/],
    ];
    for (const [token, reason] of cases) {
      const verdict = await verdictOf(jwts, token);
      assert.equal(verdict?.ok, false, String(reason));
      assert.match(verdict?.ok === false ? verdict.description : '', reason);
      assert.ok(
        verdict?.ok === false && !verdict.description.includes(token),
        'never echoes the token',
      );
    }
  });

  test('required scopes, and the audiences: a configured one, else the resource URLs', async () => {
    const scopedConfig = config({ scopes: ['mcp'], audience: 'director' });
    const audiences = new ProtectedResource(scopedConfig, 'http://127.0.0.1:8765').audiences(['a']);
    assert.deepEqual(audiences, ['director']);
    const scoped = new BearerJwts(scopedConfig);
    const ok = await sign({ sub: 'alice', scope: 'read mcp' }, { aud: 'director' });
    assert.equal((await verdictOf(scoped, ok, audiences))?.ok, true);
    const unscoped = await sign({ sub: 'alice', scope: 'read' }, { aud: 'director' });
    assert.deepEqual(await verdictOf(scoped, unscoped, audiences), {
      ok: false,
      error: 'insufficient_scope',
      description: 'the token lacks the scope mcp',
    });
    const resources = new ProtectedResource(config(), 'http://127.0.0.1:8765').audiences(['a']);
    assert.deepEqual(resources, [
      'http://127.0.0.1:8765',
      'http://127.0.0.1:8765/mcp',
      'http://127.0.0.1:8765/mcp/a',
    ]);
    const forProfile = await sign({ sub: 'alice' }, { aud: 'http://127.0.0.1:8765/mcp/a' });
    assert.equal((await verdictOf(jwtsFor(), forProfile, resources))?.ok, true);
  });

  test('what is not a JWT is left to the static tokens', () => {
    const jwts = jwtsFor();
    assert.equal(
      jwts.prepare({ authorization: 'Bearer a-static-token-of-32-characters' }, AUDIENCE),
      undefined,
    );
    assert.equal(jwts.prepare({}, AUDIENCE), undefined);
  });
});
