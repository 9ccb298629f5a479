import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostAndOrigin } from '../../../../src/supervisor/ingress/origin.js';

test('localhost Host and Origin pass, with any port', () => {
  for (const host of ['localhost:8765', '127.0.0.1:1', '[::1]:3000', 'localhost']) {
    assert.equal(
      checkHostAndOrigin({ host, origin: 'http://localhost:5173' }, '127.0.0.1', []),
      undefined,
      host,
    );
  }
  assert.equal(
    checkHostAndOrigin({ host: 'localhost' }, '127.0.0.1', []),
    undefined,
    'no Origin is fine',
  );
});

test('a rebinding Host or a foreign Origin is refused with a reason', () => {
  assert.match(
    checkHostAndOrigin({ host: 'evil.example.com' }, '127.0.0.1', []) ?? '',
    /Host header 'evil.example.com' is not allowed/,
  );
  assert.match(
    checkHostAndOrigin({ host: 'localhost', origin: 'http://evil.example.com' }, '127.0.0.1', []) ??
      '',
    /allowedOrigins/,
  );
  assert.match(
    checkHostAndOrigin({ host: 'localhost', origin: 'null' }, '127.0.0.1', []) ?? '',
    /not allowed/,
  );
});

test('configured origins and a wildcard bind', () => {
  assert.equal(
    checkHostAndOrigin({ host: 'localhost', origin: 'https://app.example.com' }, '127.0.0.1', [
      'https://app.example.com',
    ]),
    undefined,
  );
  assert.equal(checkHostAndOrigin({ host: 'director.lan:8765' }, '0.0.0.0', []), undefined);
});
