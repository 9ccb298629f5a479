/**
 * Bearer JWTs against a real issuer stand-in: its metadata and key set served over HTTP on
 * 127.0.0.1, tokens signed with jose. Valid tokens map to profiles by their claims; expired,
 * wrong-audience, wrong-issuer, unsigned and foreign-key tokens are refused with a reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { BearerJwts } from '../../../../src/supervisor/ingress/bearer-jwts.js';
import type { OauthIngressConfig } from '../../../../src/shared/config/types.js';

const AUDIENCE = 'http://127.0.0.1:8765/mcp';

describe('BearerJwts', () => {
  let server: Server;
  let issuer: string;
  let key: CryptoKey;
  let foreign: CryptoKey;
  let jwtsFor: (config?: Partial<OauthIngressConfig>) => BearerJwts;

  before(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    foreign = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') {
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      } else if (req.url === '/jwks') {
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end('{}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jwtsFor = (config = {}) =>
      new BearerJwts({
        issuer,
        jwksUri: null,
        audience: null,
        scopes: [],
        profiles: [
          { claim: 'groups', value: 'ops', profile: 'ops', admin: true },
          { claim: 'sub', value: 'alice', profile: 'a', admin: false },
        ],
        defaultProfile: null,
        ...config,
      });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (
    claims: Record<string, unknown>,
    options: { exp?: string; iss?: string; aud?: string; with?: CryptoKey } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(options.iss ?? issuer)
      .setAudience(options.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? '5m')
      .sign(options.with ?? key);

  async function verdictOf(jwts: BearerJwts, token: string) {
    await jwts.prepare({ authorization: `Bearer ${token}` }, AUDIENCE);
    return jwts.verdict(token);
  }

  test('claims map to profiles, first rule first; the verdict is cached until expiry', async () => {
    const jwts = jwtsFor();
    const ops = await sign({ sub: 'alice', groups: ['dev', 'ops'] });
    assert.deepEqual(await verdictOf(jwts, ops), {
      ok: true,
      profile: 'ops',
      admin: true,
      subject: 'alice',
    });
    const alice = await sign({ sub: 'alice' });
    assert.deepEqual(await verdictOf(jwts, alice), {
      ok: true,
      profile: 'a',
      admin: false,
      subject: 'alice',
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
      [await sign({ sub: 'alice' }, { with: foreign }), /signature does not verify/],
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

  test('required scopes, and a configured audience instead of the resource URL', async () => {
    const scoped = jwtsFor({ scopes: ['mcp'], audience: 'director' });
    const ok = await sign({ sub: 'alice', scope: 'read mcp' }, { aud: 'director' });
    assert.equal((await verdictOf(scoped, ok))?.ok, true);
    const unscoped = await sign({ sub: 'alice', scope: 'read' }, { aud: 'director' });
    assert.deepEqual(await verdictOf(scoped, unscoped), {
      ok: false,
      error: 'insufficient_scope',
      description: 'the token lacks the scope mcp',
    });
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
