/**
 * Bearer JWTs from the configured OAuth issuer: the daemon as an OAuth resource server
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization). The one
 * module that imports jose (boundaries.json); access.ts decides with its verdicts.
 *
 * Verifying a JWT is asynchronous (WebCrypto, and the issuer's keys fetched and cached by
 * jose), while access is decided synchronously on every request (access.ts). So the ingress
 * asks `prepare` first: a bearer that looks like a JWT and has no verdict yet is verified,
 * and the verdict (the profile it maps to, or why it was refused) is cached by the token's
 * digest until the token expires; `verdict` then reads it synchronously.
 */
import { createHash } from 'node:crypto';
import type * as Jose from 'jose';
import type { OauthIngressConfig } from '../../shared/config/types.js';
import { logger } from '../../shared/log.js';

const log = logger('oauth');

let jose: Promise<typeof Jose> | undefined;
/**
 * jose, loaded for the first token to verify: a daemon without `oauth` never loads it (it
 * costs ~2.4 MiB of resident memory, docs/architecture.md#memory).
 */
const loadJose = (): Promise<typeof Jose> => (jose ??= import('jose'));

export type JwtVerdict =
  | {
      ok: true;
      profile: string;
      admin: boolean;
      subject: string;
      /** Who the user is for `share: "identity"` servers (null when the token has no `sub`). */
      identity: string | null;
    }
  | { ok: false; error: 'invalid_token' | 'insufficient_scope'; description: string };

interface Cached {
  verdict: JwtVerdict;
  /** ms since the epoch after which the token is verified again. */
  until: number;
}

/** Three base64url parts: what a JWS compact serialization looks like. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Verdicts kept at most; the oldest go first (a flood of forged tokens stays bounded). */
const MAX_CACHED = 10_000;
/** A refusal is remembered this long, so a bad token is not verified again on every request. */
const REFUSAL_MS = 60_000;
/** Metadata documents of the issuer, tried in this order (RFC 8414, then OpenID Connect). */
const METADATA_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
];

export function bearerOf(headers: Readonly<Record<string, string>>): string | undefined {
  const value = headers['authorization'];
  if (value === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

export function looksLikeJwt(token: string): boolean {
  return token.length < 16_384 && JWT_SHAPE.test(token);
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Whether the payload's claim holds `value`: equal, in an array, or a word of a scope string. */
function claimHolds(payload: Jose.JWTPayload, claim: string, value: string): boolean {
  if (!Object.hasOwn(payload, claim)) return false;
  const held: unknown = payload[claim];
  if (typeof held === 'string') {
    return held === value || (claim === 'scope' && held.split(' ').includes(value));
  }
  return Array.isArray(held) && held.includes(value);
}

export class BearerJwts {
  readonly #config: OauthIngressConfig;
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Map<string, Promise<void>>();
  #keys: Promise<ReturnType<typeof Jose.createRemoteJWKSet>> | undefined;

  constructor(config: OauthIngressConfig) {
    this.#config = config;
  }

  get issuer(): string {
    return this.#config.issuer;
  }

  get scopes(): readonly string[] {
    return this.#config.scopes;
  }

  /** The cached verdict on a token, if it has one that has not expired. */
  verdict(token: string, now = Date.now()): JwtVerdict | undefined {
    return this.#cached(digest(token), now);
  }

  #cached(key: string, now = Date.now()): JwtVerdict | undefined {
    const cached = this.#cache.get(key);
    if (cached === undefined || cached.until <= now) return undefined;
    return cached.verdict;
  }

  /**
   * Verifies the request's bearer when it looks like a JWT and has no verdict yet; resolves
   * once it has one. Undefined (no waiting) when there is nothing to verify. `audience`: what
   * the token's `aud` may name (protected-resource.ts).
   */
  prepare(
    headers: Readonly<Record<string, string>>,
    audience: string | string[],
  ): Promise<void> | undefined {
    const token = bearerOf(headers);
    if (token === undefined || !looksLikeJwt(token)) return undefined;
    const key = digest(token);
    if (this.#cached(key) !== undefined) return undefined;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      pending = this.#verify(token, audience)
        .then((cached) => this.#remember(key, cached))
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #verify(token: string, audience: string | string[]): Promise<Cached> {
    const now = Date.now();
    const { jwtVerify, errors } = await loadJose();
    try {
      const { payload } = await jwtVerify(token, await this.#jwks(), {
        issuer: this.#config.issuer,
        audience,
      });
      const verdict = this.#profileOf(payload);
      const expires = typeof payload.exp === 'number' ? payload.exp * 1000 : now + REFUSAL_MS;
      return { verdict, until: verdict.ok ? expires : now + REFUSAL_MS };
    } catch (error) {
      return {
        verdict: { ok: false, error: 'invalid_token', description: why(error, errors) },
        until: now + REFUSAL_MS,
      };
    }
  }

  #profileOf(payload: Jose.JWTPayload): JwtVerdict {
    const subject = typeof payload.sub === 'string' ? payload.sub : '';
    const identity = subject === '' ? null : oauthIdentity(this.#config.issuer, subject);
    const missing = this.#config.scopes.filter((scope) => !claimHolds(payload, 'scope', scope));
    if (missing.length > 0) {
      return {
        ok: false,
        error: 'insufficient_scope',
        description: `the token lacks the scope ${missing.join(', ')}`,
      };
    }
    for (const rule of this.#config.profiles) {
      if (claimHolds(payload, rule.claim, rule.value)) {
        return { ok: true, profile: rule.profile, admin: rule.admin, subject, identity };
      }
    }
    if (this.#config.defaultProfile !== null) {
      return { ok: true, profile: this.#config.defaultProfile, admin: false, subject, identity };
    }
    return {
      ok: false,
      error: 'insufficient_scope',
      description: `no profile is mapped to this token's claims (oauth.profiles)`,
    };
  }

  #remember(key: string, cached: Cached): void {
    if (this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, cached);
  }

  /** The issuer's key set: `jwksUri`, else the one its metadata names (fetched once). */
  #jwks(): Promise<ReturnType<typeof Jose.createRemoteJWKSet>> {
    this.#keys ??= Promise.all([this.#jwksUri(), loadJose()]).then(
      ([uri, { createRemoteJWKSet }]) => createRemoteJWKSet(new URL(uri)),
    );
    // A failed discovery is tried again on the next token.
    this.#keys.catch(() => (this.#keys = undefined));
    return this.#keys;
  }

  async #jwksUri(): Promise<string> {
    if (this.#config.jwksUri !== null) return this.#config.jwksUri;
    const base = this.#config.issuer.replace(/\/+$/, '');
    for (const path of METADATA_PATHS) {
      try {
        const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) continue;
        const metadata: unknown = await response.json();
        if (
          metadata !== null &&
          typeof metadata === 'object' &&
          typeof (metadata as { jwks_uri?: unknown }).jwks_uri === 'string'
        ) {
          return (metadata as { jwks_uri: string }).jwks_uri;
        }
      } catch (error) {
        log.debug(`no metadata at ${base}${path}: ${String(error)}`);
      }
    }
    throw new Error(`the issuer ${base} publishes no jwks_uri in its metadata; set oauth.jwksUri`);
  }
}

/** Why a token was refused, in words for `error_description` (never the token itself). */
function why(error: unknown, errors: typeof Jose.errors): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `the token's "${error.claim}" claim is not accepted (${error.reason})`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return 'the signature does not verify';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return 'the token is not signed with an accepted algorithm';
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return 'the token is malformed';
  }
  log.warn(
    `could not verify a bearer token: ${error instanceof Error ? error.message : String(error)}`,
  );
  return 'the token could not be verified';
}

/**
 * An OAuth user's identity (README: Credentials per user): a digest of issuer and subject,
 * since a subject may hold any character while an identity names a credential file. At 38
 * characters it is longer than any token name (at most 32), so a user never takes a
 * token's identity, nor the other way round.
 */
export function oauthIdentity(issuer: string, subject: string): string {
  const hash = createHash('sha256').update(`${issuer}\u0000${subject}`, 'utf8').digest('hex');
  return `oauth-${hash.slice(0, 32)}`;
}
