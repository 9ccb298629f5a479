/**
 * The uWS package on npm silently falls back to a slow JS emulation when its binary does
 * not load; this asserts that the daemon's loader only ever returns a native build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadNativeUws } from '../../../../src/supervisor/ingress/uws.js';

test('the uWebSockets.js build in use is native, not the JS fallback', () => {
  const build = loadNativeUws();
  assert.ok(
    ['@btc-vision/uwebsockets.js', '@trufflesuite/uws-js-unofficial'].includes(build.name),
    build.name,
  );
  // A native addon's functions are implemented in C++; the emulation's are JS source.
  assert.match(Function.prototype.toString.call(build.module.App), /\[native code\]/);
  const cached = Object.keys(createRequire(import.meta.url).cache);
  assert.ok(
    cached.some((path) => /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(path)),
    'a uws_*.node addon is loaded',
  );
  assert.ok(
    !cached.some((path) => path.includes('uws-js-unofficial/dist/')),
    'the JS emulation is not loaded',
  );
});
