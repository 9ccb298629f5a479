/**
 * The credential store: records sealed with AES-256-GCM (never in the clear), 0600 files in
 * a 0700 folder, a file that does not open under another key or another name, and the key
 * from the environment or a key file made once.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CREDENTIALS_KEY_ENV,
  CredentialStore,
  credentialKey,
} from '../../../../src/shared/credentials/credential-store.js';

const KEY = Buffer.alloc(32, 7);
const scratch = () => mkdtempSync(path.join(tmpdir(), 'mcpd-credentials-'));

describe('CredentialStore', () => {
  it('seals records: nothing in the clear, 0600 in a 0700 folder, read back as written', () => {
    const dir = scratch();
    const store = new CredentialStore(dir, KEY);
    const record = { tokens: { access_token: 'secret-access', refresh_token: 'secret-refresh' } };
    assert.equal(store.has('remote'), false);
    store.write('remote', record);
    const file = path.join(dir, 'credentials', 'remote.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.ok(!readFileSync(file, 'utf8').includes('secret'));
    assert.deepEqual(store.read('remote'), record);
    store.write('remote', { tokens: { access_token: 'b' } }, 'alice');
    assert.deepEqual(store.identities('remote').sort(), ['', 'alice']);
    assert.equal(store.remove('remote'), true);
    assert.equal(store.remove('remote'), false);
    assert.equal(store.read('remote'), undefined);
  });

  it('a file does not open under another key, nor under another name', () => {
    const dir = scratch();
    new CredentialStore(dir, KEY).write('a', { codeVerifier: 'v' });
    assert.throws(
      () => new CredentialStore(dir, Buffer.alloc(32, 8)).read('a'),
      /does not open with this key/,
    );
    copyFileSync(path.join(dir, 'credentials', 'a.json'), path.join(dir, 'credentials', 'b.json'));
    assert.throws(() => new CredentialStore(dir, KEY).read('b'), /does not open/);
    assert.throws(() => new CredentialStore(dir, KEY).read('../a'), /not a server id/);
  });

  it('the key: from the environment, else a key file made once (0600) and reused', () => {
    assert.deepEqual(
      credentialKey({ [CREDENTIALS_KEY_ENV]: 'ab'.repeat(32) }),
      Buffer.alloc(32, 0xab),
    );
    assert.throws(() => credentialKey({ [CREDENTIALS_KEY_ENV]: 'short' }), /must be 32 bytes/);
    const env = { XDG_CONFIG_HOME: scratch() };
    const made = credentialKey(env);
    const file = path.join(env.XDG_CONFIG_HOME, 'mcp-director', 'credentials.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(credentialKey(env), made);
  });

  it('needs no key until a record is read or written', () => {
    let asked = 0;
    const store = new CredentialStore(scratch(), () => {
      asked++;
      return KEY;
    });
    assert.equal(store.has('x'), false);
    assert.equal(asked, 0);
    store.write('x', {});
    store.read('x');
    assert.equal(asked, 1);
  });
});
