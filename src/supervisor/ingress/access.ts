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
 * With `oauth` configured, a bearer that is no static token but looks like a JWT is judged by
 * its issuer (bearer-jwts.ts: verified in `prepare`, before the request is routed, and read
 * here synchronously), a token of either kind is required, and every 401 points at the
 * protected resource metadata (protected-resource.ts) so the client can sign in.
 *
 * The same decision scopes `/api` (`apiScope`) and counts requests against the token's and
 * the profile's rate limits (`admit`, rate-limit.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { DEFAULT_PROFILE } from '../../shared/config/defaults.js';
import type { DirectorConfig, OauthIngressConfig } from '../../shared/config/types.js';
import { BearerJwts, looksLikeJwt } from './bearer-jwts.js';
import { ProtectedResource, localBaseUrl, type Challenge } from './protected-resource.js';
import { RateLimits, type Admitted, type Decision, type RateIdentity } from './rate-limit.js';
import type { SharedBuckets } from '../fleet/shared-buckets.js';

/** A request let in: who it is for the rest of its way. */
export type Grant = Extract<AccessDecision, { ok: true }>;

export type AccessDecision =
  | {
      ok: true;
      profile: string;
      tokenName?: string;
      admin?: boolean;
      /** The `sub` of an OAuth token. */
      subject?: string;
      /**
       * Whose credentials a `share: "identity"` server uses for this request: the static
       * token's name, or the OAuth user's digest (bearer-jwts.ts). '' on a daemon without
       * tokens (everyone may use the server's own sign-in); null for a request without an
       * identity on a daemon that has tokens: such a server refuses it.
       */
      identity: string | null;
    }
  | {
      ok: false;
      status: 401 | 403 | 404;
      message: string;
      /** What the refusal must carry (`WWW-Authenticate` on a 401 or an insufficient scope). */
      headers: Record<string, string>;
    };

/**
 * What `/api` shows a request: everything (`admin`), or one profile's view (its servers,
 * tools, sessions and calls; no commands, URLs or session ids).
 */
export interface ApiScope {
  admin: boolean;
  /** The caller's profile: what `/api/tools` shows when no `?profile=` is asked. */
  profile: string;
  /** The caller's identity: a tool the admin tries out goes as them (`Grant.identity`). */
  identity: string | null;
}

interface KnownToken {
  name: string;
  digest: Buffer;
  profile: string;
  admin: boolean;
}

type AccessConfig = Pick<DirectorConfig, 'tokens' | 'profiles' | 'requireToken' | 'oauth'> & {
  listen: Pick<DirectorConfig['listen'], 'host'>;
};

/** The challenge of a 401 without OAuth: a bearer token is expected. */
const STATIC_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="mcp-director"' };

/** OAuth's parts, rebuilt only when `oauth` changes (a reload keeps the cached verdicts). */
interface Oauth {
  config: OauthIngressConfig;
  key: string;
  jwts: BearerJwts;
  resource: ProtectedResource;
}

export class Access {
  #tokens: KnownToken[] = [];
  #reserved = new Set<string>();
  #profiles = new Set<string>();
  #required = false;
  #oauth: Oauth | undefined;
  #listenHost = '127.0.0.1';
  /** The port the daemon listens on, once bound (the default resource URL names it). */
  #port = 0;
  readonly #limits: RateLimits;

  /** `shared`: the rate-limit buckets of a fleet, in Redis (`cluster.redis`). */
  constructor(config: AccessConfig, shared?: SharedBuckets) {
    this.#limits = new RateLimits(config, Date.now(), shared);
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
    this.#required = config.requireToken || config.oauth !== null;
    this.#listenHost = config.listen.host;
    this.#limits.configure(config);
    this.#configureOauth(config.oauth);
  }

  /** The daemon is listening on `port`: the default resource URL names it. */
  listening(port: number): void {
    this.#port = port;
    this.#configureOauth(this.#oauth?.config ?? null, true);
  }

  #configureOauth(config: OauthIngressConfig | null, force = false): void {
    if (config === null) {
      this.#oauth = undefined;
      return;
    }
    const key = JSON.stringify(config);
    if (!force && this.#oauth?.key === key) return;
    this.#oauth = {
      config,
      key,
      jwts: new BearerJwts(config),
      resource: new ProtectedResource(
        config,
        config.resource ?? localBaseUrl(this.#listenHost, this.#port),
      ),
    };
  }

  /**
   * Asynchronous work a request needs before it can be decided: verifying its bearer JWT.
   * Undefined (decide at once) when there is none.
   */
  prepare(headers: Readonly<Record<string, string>>): Promise<void> | undefined {
    const oauth = this.#oauth;
    if (oauth === undefined) return undefined;
    return oauth.jwts.prepare(headers, oauth.resource.audiences(this.#profiles));
  }

  /**
   * The protected resource metadata for a `/.well-known/oauth-protected-resource…` path;
   * undefined without `oauth` or for a path naming no resource of this daemon.
   */
  resourceMetadata(path: string): Record<string, unknown> | undefined {
    return this.#oauth?.resource.metadata(path, this.#profiles);
  }

  /**
   * Counts one JSON-RPC request of `identity`: a refusal when a rate limit is spent,
   * undefined when admitted; DEFERRED while the fleet's limits are asked in Redis, and then
   * `later` gets the verdict.
   */
  admit(identity: RateIdentity, method: string, later: Admitted): Decision {
    return this.#limits.decide(identity, method, later);
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
    const { profile, identity } = decision;
    return { ok: true, scope: { admin: everything, profile, identity } };
  }

  /** Whether any request needs a token (then /api does too). */
  get required(): boolean {
    return this.#required;
  }

  /** The profile a request gets, or why it gets none. `pathProfile`: from `/mcp/<profile>`. */
  decide(
    headers: Readonly<Record<string, string | undefined>>,
    pathProfile: string | undefined,
    /**
     * The profile the config gives the project the request names (README: Projects): taken
     * as if the path named it, when the request names no profile itself (no path, no token).
     */
    projectProfile?: string,
  ): AccessDecision {
    if (
      pathProfile === undefined &&
      projectProfile !== undefined &&
      presentedToken(headers) === undefined
    ) {
      pathProfile = projectProfile;
    }
    if (pathProfile !== undefined && !this.#profiles.has(pathProfile)) {
      return this.#refuse(
        404,
        `Unknown profile '${pathProfile}': the config defines ${[...this.#profiles].map((p) => `'${p}'`).join(', ')}; use /mcp/<profile> with one of them, or /mcp`,
      );
    }
    const presented = presentedToken(headers);
    if (presented !== undefined) {
      const token = this.#match(presented);
      if (token === undefined) return this.#decideOauth(presented, pathProfile);
      if (pathProfile !== undefined && pathProfile !== token.profile) {
        return this.#refuse(
          403,
          `Forbidden: token '${token.name}' is for profile '${token.profile}', not '${pathProfile}'; use /mcp/${token.profile} or /mcp`,
        );
      }
      return {
        ok: true,
        profile: token.profile,
        tokenName: token.name,
        admin: token.admin,
        identity: token.name,
      };
    }
    const profile = pathProfile ?? DEFAULT_PROFILE;
    if (this.#required || this.#reserved.has(profile)) {
      const why =
        this.#oauth !== undefined
          ? 'this MCP Director requires a token; sign in with its OAuth issuer (the WWW-Authenticate header points at its metadata)'
          : this.#required
            ? 'this MCP Director requires a token'
            : `profile '${profile}' requires one of its tokens`;
      return this.#refuse(
        401,
        `Unauthorized: ${why}; send Authorization: Bearer <token> (or X-Workspace-Token: <token>)`,
        pathProfile,
        {},
      );
    }
    // Without tokens nothing tells callers apart; with them, an anonymous caller is nobody.
    const open = this.#tokens.length === 0 && this.#oauth === undefined;
    return { ok: true, profile, identity: open ? '' : null };
  }

  /** A bearer that is no static token: an OAuth JWT's verdict, or a refusal. */
  #decideOauth(presented: string, pathProfile: string | undefined): AccessDecision {
    const oauth = this.#oauth;
    const verdict =
      oauth !== undefined && looksLikeJwt(presented) ? oauth.jwts.verdict(presented) : undefined;
    if (verdict === undefined) {
      return this.#refuse(
        401,
        oauth === undefined
          ? 'Unauthorized: the token is not one this MCP Director knows; check the token your client sends (Authorization: Bearer, or mcp-director connect --token)'
          : "Unauthorized: the token is neither one of this MCP Director's tokens nor a JWT of its OAuth issuer; sign in again",
        pathProfile,
        { error: 'invalid_token', description: 'the token is not accepted' },
      );
    }
    if (!verdict.ok) {
      const status = verdict.error === 'insufficient_scope' ? 403 : 401;
      return this.#refuse(
        status,
        `${status === 401 ? 'Unauthorized' : 'Forbidden'}: ${verdict.description}`,
        pathProfile,
        { error: verdict.error, description: verdict.description },
      );
    }
    if (pathProfile !== undefined && pathProfile !== verdict.profile) {
      return this.#refuse(
        403,
        `Forbidden: your sign-in is for profile '${verdict.profile}', not '${pathProfile}'; use /mcp/${verdict.profile} or /mcp`,
      );
    }
    const { profile, admin, subject, identity } = verdict;
    return { ok: true, profile, admin, subject, identity };
  }

  /**
   * A refusal. A 401 (and a 403 for a missing scope) carries the challenge: with OAuth, one
   * that points at the resource metadata; without, the plain bearer one. `challenge`
   * undefined: no challenge (a 403 for the wrong profile, a 404).
   */
  #refuse(
    status: 401 | 403 | 404,
    message: string,
    profile?: string,
    challenge?: Challenge,
  ): Extract<AccessDecision, { ok: false }> {
    if (challenge === undefined) return { ok: false, status, message, headers: {} };
    const oauth = this.#oauth;
    const headers =
      oauth === undefined
        ? status === 401
          ? STATIC_CHALLENGE
          : {}
        : { 'WWW-Authenticate': oauth.resource.challenge(profile, challenge) };
    return { ok: false, status, message, headers };
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
