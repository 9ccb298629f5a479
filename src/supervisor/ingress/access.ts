/**
 * Who may use which profile (docs/architecture.md#catalog-names-and-profiles). Every request is
 * decided on its own, from its URL (`/mcp/<profile>`) and its token (`Authorization: Bearer
 * <token>`, or `X-Workspace-Token` as MCP Router clients send it), never from its session
 * alone.
 *
 * - A token that matches selects its profile; a URL naming another profile is refused (403).
 * - A token that matches nothing is refused (401), even where none is required: a client
 *   that sends a wrong token should learn so rather than silently get the default view.
 * - Without a token: refused (401) when `requireToken` is set or when the profile is one a
 *   token maps to (such a profile is reserved for its tokens); else the URL's profile.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, against every configured
 * token without stopping at a match, so neither the match nor its position leaks through
 * timing. Messages name tokens by their config name, never by value.
 *
 * The same decision scopes `/api` (`apiScope`) and counts requests against the token's and
 * the profile's rate limits (`admit`, rate-limit.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { DEFAULT_PROFILE } from '../../shared/config/defaults.js';
import type { DirectorConfig } from '../../shared/config/types.js';
import { RateLimits, type RateIdentity, type RateRefusal } from './rate-limit.js';

export type AccessDecision =
  | { ok: true; profile: string; tokenName?: string; admin?: boolean }
  | { ok: false; status: 401 | 403 | 404; message: string };

/**
 * What `/api` shows a request: everything (`admin`), or one profile's view (its servers,
 * tools, sessions and calls; no commands, URLs or session ids).
 */
export interface ApiScope {
  admin: boolean;
  /** The caller's profile: what `/api/tools` shows when no `?profile=` is asked. */
  profile: string;
}

interface KnownToken {
  name: string;
  digest: Buffer;
  profile: string;
  admin: boolean;
}

type AccessConfig = Pick<DirectorConfig, 'tokens' | 'profiles' | 'requireToken'>;

/** The headers a 401 carries, so clients know a bearer token is expected. */
export const UNAUTHORIZED_HEADERS = { 'WWW-Authenticate': 'Bearer realm="mcp-director"' };

export class Access {
  #tokens: KnownToken[] = [];
  #reserved = new Set<string>();
  #profiles = new Set<string>();
  #required = false;
  readonly #limits: RateLimits;

  constructor(config: AccessConfig) {
    this.#limits = new RateLimits(config);
    this.configure(config);
  }

  /**
   * Applies a (re)loaded config: revoked tokens stop working with the next request, new
   * rate limits apply to it (buckets of unchanged limits are kept).
   */
  configure(config: AccessConfig): void {
    this.#tokens = config.tokens.map((t) => ({
      name: t.name,
      digest: digest(t.token),
      profile: t.profile,
      admin: t.admin,
    }));
    this.#reserved = new Set(config.tokens.map((t) => t.profile));
    this.#profiles = new Set(Object.keys(config.profiles));
    this.#required = config.requireToken;
    this.#limits.configure(config);
  }

  /** Counts one JSON-RPC request of `identity`; a refusal when a rate limit is spent. */
  admit(identity: RateIdentity, method: string): RateRefusal | undefined {
    return this.#limits.admit(identity, method);
  }

  /**
   * What `/api` shows this request, or why it gets nothing. An admin token sees everything;
   * a profile token sees its profile; a request without a token sees everything only while
   * the config has no token at all (then nothing tells callers apart, and anyone who can
   * reach the daemon can use every profile anyway), else the default profile's view — or a
   * 401 where `/mcp` would give one (requireToken, or a default profile kept for tokens).
   */
  apiScope(
    headers: Readonly<Record<string, string | undefined>>,
  ): { ok: true; scope: ApiScope } | Extract<AccessDecision, { ok: false }> {
    const decision = this.decide(headers, undefined);
    if (!decision.ok) return decision;
    const everything =
      decision.admin === true || (decision.tokenName === undefined && this.#tokens.length === 0);
    return { ok: true, scope: { admin: everything, profile: decision.profile } };
  }

  /** Whether any request needs a token (then /api does too). */
  get required(): boolean {
    return this.#required;
  }

  /** The profile a request gets, or why it gets none. `pathProfile`: from `/mcp/<profile>`. */
  decide(
    headers: Readonly<Record<string, string | undefined>>,
    pathProfile: string | undefined,
  ): AccessDecision {
    if (pathProfile !== undefined && !this.#profiles.has(pathProfile)) {
      return {
        ok: false,
        status: 404,
        message: `Unknown profile '${pathProfile}': the config defines ${[...this.#profiles].map((p) => `'${p}'`).join(', ')}; use /mcp/<profile> with one of them, or /mcp`,
      };
    }
    const presented = presentedToken(headers);
    if (presented !== undefined) {
      const token = this.#match(presented);
      if (token === undefined) {
        return {
          ok: false,
          status: 401,
          message:
            'Unauthorized: the token is not one this MCP Director knows; check the token your client sends (Authorization: Bearer, or mcp-director connect --token)',
        };
      }
      if (pathProfile !== undefined && pathProfile !== token.profile) {
        return {
          ok: false,
          status: 403,
          message: `Forbidden: token '${token.name}' is for profile '${token.profile}', not '${pathProfile}'; use /mcp/${token.profile} or /mcp`,
        };
      }
      return { ok: true, profile: token.profile, tokenName: token.name, admin: token.admin };
    }
    const profile = pathProfile ?? DEFAULT_PROFILE;
    if (this.#required || this.#reserved.has(profile)) {
      const why = this.#required
        ? 'this MCP Director requires a token'
        : `profile '${profile}' requires one of its tokens`;
      return {
        ok: false,
        status: 401,
        message: `Unauthorized: ${why}; send Authorization: Bearer <token> (or X-Workspace-Token: <token>)`,
      };
    }
    return { ok: true, profile };
  }

  #match(presented: string): KnownToken | undefined {
    const candidate = digest(presented);
    let found: KnownToken | undefined;
    for (const token of this.#tokens) {
      if (timingSafeEqual(candidate, token.digest)) found ??= token;
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token a request carries, if any; `Authorization: Bearer` wins over the MCP Router header. */
export function presentedToken(
  headers: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const authorization = headers['authorization'];
  const bearer = authorization === undefined ? undefined : /^Bearer\s+(.+)$/i.exec(authorization);
  const token = bearer?.[1]?.trim() ?? headers['x-workspace-token']?.trim();
  return token === '' ? undefined : token;
}
