/**
 * The token-bucket math of the per-token and per-profile rate limits, on a clock the test
 * controls: burst, refill, Retry-After rounding, both limits at once, and a reload that
 * keeps (or carries over) buckets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unrestrictedProfile } from '../../../../src/shared/config/defaults.js';
import type { ProfileConfig, RateLimit, TokenConfig } from '../../../../src/shared/config/types.js';
import { directorCodeOf } from '../../../../src/shared/errors.js';
import {
  RateLimits,
  TokenBucket,
  countsTowardRateLimit,
  rateLimitedError,
  retryAfterSeconds,
} from '../../../../src/supervisor/ingress/rate-limit.js';

function token(name: string, profile: string, rateLimit: RateLimit | null): TokenConfig {
  return { name, token: `${name}-0123456789abcdef`, profile, admin: false, rateLimit, secrets: {} };
}

function profiles(limits: Record<string, RateLimit | null>): Record<string, ProfileConfig> {
  const out: Record<string, ProfileConfig> = {};
  for (const [name, rateLimit] of Object.entries(limits)) {
    out[name] = { ...unrestrictedProfile(name, []), rateLimit };
  }
  return out;
}

test('a bucket gives its burst at once, then one request per 1/perSecond', () => {
  const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, 0);
  for (let i = 0; i < 3; i++) {
    assert.equal(bucket.waitMs(0), 0);
    bucket.take();
  }
  assert.equal(bucket.waitMs(0), 500);
  assert.equal(bucket.waitMs(200), 300);
  assert.equal(bucket.waitMs(500), 0);
  bucket.take();
  assert.equal(bucket.waitMs(500), 500);
  // Idle for long: refilled to the burst, never beyond.
  assert.equal(bucket.available(60_000), 3);
});

test('a clock that goes backwards neither refills nor breaks the bucket', () => {
  const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, 10_000);
  bucket.take();
  assert.equal(bucket.waitMs(5_000), 1000);
  assert.equal(bucket.waitMs(10_500), 500);
});

test('fractional rates: 0.5 per second means a 2 s wait, Retry-After in whole seconds', () => {
  const limits = new RateLimits(
    {
      tokens: [token('slow', 'default', { perSecond: 0.5, burst: 1 })],
      profiles: profiles({ default: null }),
    },
    0,
  );
  assert.equal(limits.admit({ profile: 'default', tokenName: 'slow' }, 'tools/call', 0), undefined);
  const refusal = limits.admit({ profile: 'default', tokenName: 'slow' }, 'tools/call', 1);
  assert.equal(refusal?.retryAfterMs, 1999);
  assert.equal(retryAfterSeconds(refusal!), '2');
  assert.equal(retryAfterSeconds({ ...refusal!, retryAfterMs: 1 }), '1');
});

test('keyed by token: the same token on any session shares one bucket; another token has its own', () => {
  const config = {
    tokens: [
      token('a', 'p', { perSecond: 1, burst: 2 }),
      token('b', 'p', { perSecond: 1, burst: 2 }),
    ],
    profiles: profiles({ p: null }),
  };
  const limits = new RateLimits(config, 0);
  const a = { profile: 'p', tokenName: 'a' };
  assert.equal(limits.admit(a, 'tools/call', 0), undefined);
  assert.equal(limits.admit(a, 'tools/list', 0), undefined);
  const refused = limits.admit(a, 'tools/call', 0);
  assert.deepEqual(
    { kind: refused?.kind, name: refused?.name, wait: refused?.retryAfterMs },
    { kind: 'token', name: 'a', wait: 1000 },
  );
  assert.equal(limits.admit({ profile: 'p', tokenName: 'b' }, 'tools/call', 0), undefined);
  // No limit for the profile and no token: nothing is counted.
  for (let i = 0; i < 100; i++)
    assert.equal(limits.admit({ profile: 'p' }, 'tools/call', 0), undefined);
});

test('handshakes and ping are not counted', () => {
  for (const method of ['initialize', 'server/discover', 'ping']) {
    assert.equal(countsTowardRateLimit(method), false, method);
  }
  for (const method of ['tools/call', 'tools/list', 'resources/read', 'toString', '__proto__']) {
    assert.equal(countsTowardRateLimit(method), true, method);
  }
  const limits = new RateLimits(
    { tokens: [], profiles: profiles({ p: { perSecond: 1, burst: 1 } }) },
    0,
  );
  for (let i = 0; i < 10; i++) assert.equal(limits.admit({ profile: 'p' }, 'ping', 0), undefined);
  assert.equal(limits.admit({ profile: 'p' }, 'tools/call', 0), undefined);
  assert.equal(limits.admit({ profile: 'p' }, 'tools/call', 0)?.kind, 'profile');
});

test('token and profile limits together: both must have a token; a refusal costs neither', () => {
  const limits = new RateLimits(
    {
      tokens: [token('t', 'p', { perSecond: 1, burst: 5 })],
      profiles: profiles({ p: { perSecond: 1, burst: 2 } }),
    },
    0,
  );
  const t = { profile: 'p', tokenName: 't' };
  assert.equal(limits.admit(t, 'tools/call', 0), undefined);
  assert.equal(limits.admit(t, 'tools/call', 0), undefined);
  const refused = limits.admit(t, 'tools/call', 0);
  assert.equal(refused?.kind, 'profile');
  assert.equal(refused?.name, 'p');
  // The profile's refusal did not spend the token's bucket: 3 left there, 1 refilled here.
  assert.equal(limits.admit(t, 'tools/call', 1000), undefined);
  assert.equal(limits.admit({ profile: 'p' }, 'tools/call', 1000)?.kind, 'profile');
});

test('a reload keeps the buckets of unchanged limits and carries tokens over to changed ones', () => {
  const before = {
    tokens: [token('t', 'p', { perSecond: 1, burst: 3 })],
    profiles: profiles({ p: null }),
  };
  const limits = new RateLimits(before, 0);
  const t = { profile: 'p', tokenName: 't' };
  for (let i = 0; i < 3; i++) assert.equal(limits.admit(t, 'tools/call', 0), undefined);
  limits.configure(before, 0);
  assert.equal(
    limits.admit(t, 'tools/call', 0)?.kind,
    'token',
    'an unchanged limit keeps its bucket',
  );
  // A higher burst grants nothing until it refills; a faster rate refills faster.
  limits.configure({ ...before, tokens: [token('t', 'p', { perSecond: 10, burst: 10 })] }, 0);
  assert.equal(limits.admit(t, 'tools/call', 0)?.retryAfterMs, 100);
  assert.equal(limits.admit(t, 'tools/call', 100), undefined);
  // A limit removed: nothing counted any more.
  limits.configure({ ...before, tokens: [token('t', 'p', null)] }, 100);
  for (let i = 0; i < 20; i++) assert.equal(limits.admit(t, 'tools/call', 100), undefined);
});

test('the refusal is RATE_LIMITED (-31008) naming the limit, with data.retryAfterMs', () => {
  const error = rateLimitedError({
    kind: 'token',
    name: 'ci',
    limit: { perSecond: 2, burst: 3 },
    retryAfterMs: 420,
  });
  assert.equal(error.code, -31008);
  assert.equal(directorCodeOf(error), 'RATE_LIMITED');
  assert.match(
    error.message,
    /token 'ci' may make 2 requests per second \(burst 3\); retry in 420 ms/,
  );
  assert.deepEqual(error.data, {
    director: 'RATE_LIMITED',
    retryAfterMs: 420,
    limit: 'token',
    token: 'ci',
  });
});
