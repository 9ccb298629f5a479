import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RequestStateSealer,
  requestDigest,
} from '../../../../src/supervisor/session/request-state.js';

describe('RequestStateSealer', () => {
  const sealer = new RequestStateSealer();
  const digest = requestDigest({ name: 'elicit', arguments: { message: 'hi' } });
  const claims = {
    call: 'c1',
    profile: 'dev',
    identity: 'alice',
    method: 'tools/call',
    digest,
    expires: Date.now() + 60_000,
  };
  const state = sealer.seal(claims);
  const expected = { profile: 'dev', identity: 'alice', method: 'tools/call', digest };

  test('a state comes back to whom it was issued, for its request', () => {
    assert.deepEqual(sealer.unseal(state, expected), { ok: true, claims });
  });

  test('another profile, another token of the same profile, another request: refused', () => {
    const refusals = [
      sealer.unseal(state, { ...expected, profile: 'ops' }),
      sealer.unseal(state, { ...expected, identity: 'bob' }),
      sealer.unseal(state, { ...expected, identity: '' }),
      sealer.unseal(state, { ...expected, digest: requestDigest({ name: 'other' }) }),
      new RequestStateSealer().unseal(state, expected),
    ].map((verdict) => (verdict.ok ? 'accepted' : verdict.reason));
    assert.deepEqual(refusals, [
      'it was issued to another profile',
      'it was issued to another token or user',
      'it was issued to another token or user',
      'it belongs to a different request (method or params differ)',
      'it was not issued by this MCP Director or was altered',
    ]);
  });
});
