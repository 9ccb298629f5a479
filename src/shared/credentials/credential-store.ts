/**
 * Sign-ins to remote servers, kept in the data folder encrypted at rest (README: Signing in
 * to remote servers): one file per server (and identity) under `<dataDir>/credentials/`,
 * mode 0600 in a 0700 folder, sealed with AES-256-GCM under a key kept elsewhere (the
 * `MCP_DIRECTOR_CREDENTIALS_KEY` environment variable, else `credentials.key` beside the
 * default config file, created on first use). The file's name is bound into the seal as
 * associated data, so a file copied to another server's name does not open.
 *
 * The supervisor (sign-in, status, sign-out) and the shard that owns the server (refresh)
 * both read and write here; each write replaces the whole file by a rename, so a reader sees
 * the old record or the new one, never half of each.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { defaultCredentialKeyPath } from '../config/defaults.js';

/** What the SDK's client auth module keeps for one sign-in (oauth-client.ts), as JSON. */
export interface CredentialRecord {
  /** The registered (or configured) OAuth client, as the authorization server knows it. */
  clientInformation?: Record<string, unknown>;
  tokens?: Record<string, unknown>;
  /** ms since the epoch when `tokens` were saved: with `expires_in`, when they expire. */
  tokensSavedAt?: number;
  /** The PKCE verifier of a sign-in under way. */
  codeVerifier?: string;
  /** Discovered metadata (protected resource, authorization server), reused on refresh. */
  discoveryState?: Record<string, unknown>;
  /** The redirect URI the client was registered with. */
  redirectUrl?: string;
}

export const CREDENTIALS_KEY_ENV = 'MCP_DIRECTOR_CREDENTIALS_KEY';
const FORMAT = 1;
/** Identities and server ids are config names ([A-Za-z0-9_-]); anything else is refused. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class CredentialStore {
  readonly #dir: string;
  readonly #keySource: () => Buffer;
  #key: Buffer | undefined;

  /** `key`: the key, or where to get it once a record is read or written (not before). */
  constructor(dataDir: string, key: Buffer | (() => Buffer)) {
    this.#dir = path.join(dataDir, 'credentials');
    this.#keySource = typeof key === 'function' ? key : () => key;
  }

  /**
   * The store of a data folder, with the key from the environment or its key file, looked
   * up on first use: a daemon whose servers never sign in never makes a key.
   */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): CredentialStore {
    return new CredentialStore(dataDir, () => credentialKey(env));
  }

  get #secret(): Buffer {
    this.#key ??= this.#keySource();
    return this.#key;
  }

  /** Whether a record exists (no key needed). */
  has(server: string, identity?: string): boolean {
    return existsSync(path.join(this.#dir, fileName(server, identity)));
  }

  /** The record of `server` (for `identity`, when it signs in per identity), if any. */
  read(server: string, identity?: string): CredentialRecord | undefined {
    const name = fileName(server, identity);
    let text: string;
    try {
      text = readFileSync(path.join(this.#dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return this.#open(name, text);
  }

  write(server: string, record: CredentialRecord, identity?: string): void {
    const name = fileName(server, identity);
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.#dir, name);
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temporary, this.#seal(name, record), { mode: 0o600 });
    chmodSync(temporary, 0o600); // the mode of writeFileSync is masked by the umask
    renameSync(temporary, file);
  }

  remove(server: string, identity?: string): boolean {
    const file = path.join(this.#dir, fileName(server, identity));
    try {
      rmSync(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Identities signed in to `server` ('' for the server's shared sign-in). */
  identities(server: string): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return [];
    }
    const found: string[] = [];
    for (const name of names) {
      if (name === `${server}.json`) found.push('');
      else if (name.startsWith(`${server}@`) && name.endsWith('.json')) {
        found.push(name.slice(server.length + 1, -'.json'.length));
      }
    }
    return found;
  }

  #seal(name: string, record: CredentialRecord): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#secret, iv);
    cipher.setAAD(Buffer.from(name));
    const data = Buffer.concat([cipher.update(JSON.stringify(record), 'utf8'), cipher.final()]);
    return JSON.stringify({
      format: FORMAT,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    });
  }

  #open(name: string, text: string): CredentialRecord {
    const sealed = JSON.parse(text) as Record<string, unknown>;
    const { format, iv, tag, data } = sealed;
    if (
      format !== FORMAT ||
      typeof iv !== 'string' ||
      typeof tag !== 'string' ||
      typeof data !== 'string'
    ) {
      throw new Error(`credentials/${name} is not a sealed credential file`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#secret, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    let plain: string;
    try {
      plain = Buffer.concat([
        decipher.update(Buffer.from(data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new Error(
        `credentials/${name} does not open with this key (${CREDENTIALS_KEY_ENV} or the key file changed?); sign in again`,
      );
    }
    const record: unknown = JSON.parse(plain);
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      throw new Error(`credentials/${name} holds no record`);
    }
    return record as CredentialRecord;
  }
}

function fileName(server: string, identity: string | undefined): string {
  if (!NAME.test(server)) throw new Error(`not a server id: ${JSON.stringify(server)}`);
  if (identity === undefined || identity === '') return `${server}.json`;
  if (!NAME.test(identity)) throw new Error(`not an identity name: ${JSON.stringify(identity)}`);
  return `${server}@${identity}.json`;
}

/**
 * The 32-byte key: from `MCP_DIRECTOR_CREDENTIALS_KEY` (64 hex digits or base64), else from
 * the key file, which is created (0600, random) when missing.
 */
export function credentialKey(env: NodeJS.ProcessEnv): Buffer {
  const given = env[CREDENTIALS_KEY_ENV];
  if (given !== undefined && given !== '') {
    const key = /^[0-9a-fA-F]{64}$/.test(given)
      ? Buffer.from(given, 'hex')
      : Buffer.from(given, 'base64');
    if (key.length !== 32) {
      throw new Error(
        `${CREDENTIALS_KEY_ENV} must be 32 bytes, as 64 hex digits or base64 (\`openssl rand -hex 32\`)`,
      );
    }
    return key;
  }
  const file = defaultCredentialKeyPath(env);
  try {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length === 32) return key;
    throw new Error(
      `${file} holds no 32-byte key (64 hex digits); remove it to have a new one made`,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // `wx`: when two processes race to create it, one key wins and both read it back.
    writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return credentialKey(env);
  }
  return key;
}
