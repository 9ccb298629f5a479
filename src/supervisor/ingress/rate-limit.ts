/**
 * Per-identity rate limits: `tokens.<name>.rateLimit` counts the requests of one token,
 * `profiles.<name>.rateLimit` every request of one profile together (all its tokens, and
 * clients without a token). Buckets are keyed by those config names, never by session, so a
 * client that re-initializes gets no fresh burst.
 *
 * Token buckets refilled lazily from the clock when a request arrives: O(1) per request, no
 * timer per bucket. A request must find a whole token in every bucket that applies; it takes
 * from all of them or from none (a request the profile refuses does not cost the token).
 *
 * On a node of several with `cluster.redis`, the buckets live in Redis and every node takes
 * from the same ones (fleet/shared-buckets.ts); the node's own buckets decide only while Redis
 * cannot. A request a limit applies to is then decided after one Redis round trip: `decide`
 * returns the verdict when it has it at once (no limit applies, or no Redis is configured)
 * and DEFERRED otherwise, and then its callback gets the verdict once Redis answered.
 * Meanwhile the connection's later messages go on; JSON-RPC promises no order between
 * requests.
 *
 * What counts: every JSON-RPC request a client sends except the handshakes (`initialize`,
 * `server/discover`) and `ping`. Those never reach a backend and cost the daemon next to
 * nothing, and a throttled client must still be able to check that the daemon is alive
 * and reconnect — otherwise it would take the daemon for dead and retry harder. Sessions
 * are bounded by their own limit. Notifications and responses are not requests.
 */
import type { ProfileConfig, RateLimit, TokenConfig } from '../../shared/config/types.js';
import { DirectorErrorCode, directorError } from '../../shared/errors.js';
import type { RequestId } from '../../shared/json.js';
import type { WireError } from '../../shared/errors.js';
import type { Reply } from './uws.js';
import { errorFrame } from '../../shared/jsonrpc.js';
import { logger } from '../../shared/log.js';
import type { SharedBucket, SharedBuckets } from '../fleet/shared-buckets.js';

const log = logger('rate-limit');

/** Requests that do not count toward a rate limit (see the module comment). */
const UNCOUNTED = new Set(['initialize', 'server/discover', 'ping']);

export function countsTowardRateLimit(method: string): boolean {
  return !UNCOUNTED.has(method);
}

/** One token bucket: `burst` tokens at most, `perSecond` added per second. */
export class TokenBucket {
  readonly limit: RateLimit;
  #tokens: number;
  #updatedAt: number;

  constructor(limit: RateLimit, now: number, tokens = limit.burst) {
    this.limit = limit;
    this.#tokens = Math.min(tokens, limit.burst);
    this.#updatedAt = now;
  }

  /** Tokens available at `now` (refilled, never above the burst). */
  available(now: number): number {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(
      this.limit.burst,
      this.#tokens + (elapsed * this.limit.perSecond) / 1000,
    );
    this.#updatedAt = Math.max(this.#updatedAt, now);
    return this.#tokens;
  }

  /** Milliseconds until one whole token is available; 0 when one is. */
  waitMs(now: number): number {
    const missing = 1 - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.limit.perSecond);
  }

  /** Takes one token; call only after `waitMs` said 0. */
  take(): void {
    this.#tokens -= 1;
  }
}

/** Who a request comes from, as access decided it. */
export interface RateIdentity {
  profile: string;
  tokenName?: string | undefined;
}

/** Why a request was refused: which limit, and when to try again. */
export interface RateRefusal {
  kind: 'token' | 'profile';
  /** The token's or the profile's name in the config. */
  name: string;
  limit: RateLimit;
  retryAfterMs: number;
}

/** How a request's admission is answered: undefined when admitted. */
export type Admitted = (refusal: RateRefusal | undefined) => void;

/** What `decide` returns while Redis is asked: the verdict goes to its `later` callback. */
export const DEFERRED = Symbol('deferred');

/**
 * A verdict decided at once (a refusal, or undefined when admitted), or DEFERRED. The caller
 * acts on a verdict itself, so the rate limits are consulted, not passed through, on the
 * call's path (docs/architecture.md#call-path).
 */
export type Decision = RateRefusal | undefined | typeof DEFERRED;

export class RateLimits {
  #byToken = new Map<string, TokenBucket>();
  #byProfile = new Map<string, TokenBucket>();
  readonly #shared: SharedBuckets | undefined;

  constructor(
    config: { tokens: readonly TokenConfig[]; profiles: Readonly<Record<string, ProfileConfig>> },
    now = Date.now(),
    shared?: SharedBuckets,
  ) {
    this.#shared = shared;
    this.configure(config, now);
  }

  /**
   * Applies a (re)loaded config. A bucket whose limit is unchanged is kept as it is; a
   * changed limit keeps the tokens left (up to its new burst), so lowering a limit grants
   * no fresh burst; a removed limit drops its bucket.
   */
  configure(
    config: { tokens: readonly TokenConfig[]; profiles: Readonly<Record<string, ProfileConfig>> },
    now = Date.now(),
  ): void {
    this.#byToken = rebuild(
      this.#byToken,
      config.tokens.map((t) => [t.name, t.rateLimit]),
      now,
    );
    this.#byProfile = rebuild(
      this.#byProfile,
      Object.values(config.profiles).map((p) => [p.name, p.rateLimit]),
      now,
    );
  }

  /**
   * Counts one request: against this node's buckets, answered at once; or against the
   * buckets every node shares, when there are, answered to `later` (see the module comment).
   */
  decide(identity: RateIdentity, method: string, later: Admitted): Decision {
    const shared = this.#shared;
    if (shared === undefined || !countsTowardRateLimit(method)) {
      return this.admit(identity, method);
    }
    const buckets: SharedBucket[] = [];
    const refusals: Array<Omit<RateRefusal, 'retryAfterMs'>> = [];
    const tokenName = identity.tokenName;
    const token = tokenName === undefined ? undefined : this.#byToken.get(tokenName);
    if (tokenName !== undefined && token !== undefined) {
      buckets.push({ key: `token:${tokenName}`, limit: token.limit });
      refusals.push({ kind: 'token', name: tokenName, limit: token.limit });
    }
    const profile = this.#byProfile.get(identity.profile);
    if (profile !== undefined) {
      buckets.push({ key: `profile:${identity.profile}`, limit: profile.limit });
      refusals.push({ kind: 'profile', name: identity.profile, limit: profile.limit });
    }
    if (buckets.length === 0) return undefined;
    void shared.take(buckets).then((verdict) => {
      let refusal: RateRefusal | undefined;
      if (verdict === undefined) refusal = this.admit(identity, method);
      else if (!verdict.admitted) {
        const which = refusals[verdict.index];
        // Redis answers with an index into the request's own list; anything else is a bug.
        if (which !== undefined) refusal = { ...which, retryAfterMs: verdict.waitMs };
      }
      try {
        later(refusal);
      } catch (error) {
        log.error(`answering an admitted request failed: ${(error as Error).stack ?? error}`);
      }
    });
    return DEFERRED;
  }

  /** Counts one request in this node's buckets; a refusal when a limit that applies has no token left. */
  admit(identity: RateIdentity, method: string, at?: number): RateRefusal | undefined {
    if (!countsTowardRateLimit(method)) return undefined;
    const token =
      identity.tokenName === undefined ? undefined : this.#byToken.get(identity.tokenName);
    const profile = this.#byProfile.get(identity.profile);
    if (token === undefined && profile === undefined) return undefined;
    // The clock is read only when a limit applies: most requests have none.
    const now = at ?? Date.now();
    const tokenWait = token?.waitMs(now) ?? 0;
    const profileWait = profile?.waitMs(now) ?? 0;
    if (tokenWait === 0 && profileWait === 0) {
      token?.take();
      profile?.take();
      return undefined;
    }
    // The longer wait is the one that matters: name the limit that imposes it.
    if (token !== undefined && tokenWait >= profileWait) {
      return {
        kind: 'token',
        name: identity.tokenName as string,
        limit: token.limit,
        retryAfterMs: tokenWait,
      };
    }
    return {
      kind: 'profile',
      name: identity.profile,
      limit: (profile as TokenBucket).limit,
      retryAfterMs: profileWait,
    };
  }
}

function rebuild(
  previous: ReadonlyMap<string, TokenBucket>,
  limits: Array<[string, RateLimit | null]>,
  now: number,
): Map<string, TokenBucket> {
  const next = new Map<string, TokenBucket>();
  for (const [name, limit] of limits) {
    if (limit === null) continue;
    const old = previous.get(name);
    if (old !== undefined && sameLimit(old.limit, limit)) next.set(name, old);
    else next.set(name, new TokenBucket(limit, now, old?.available(now) ?? limit.burst));
  }
  return next;
}

function sameLimit(a: RateLimit, b: RateLimit): boolean {
  return a.perSecond === b.perSecond && a.burst === b.burst;
}

/** The JSON-RPC error of a refused request (RATE_LIMITED, `data.retryAfterMs`). */
export function rateLimitedError(refusal: RateRefusal): WireError {
  const { kind, name, limit, retryAfterMs } = refusal;
  return directorError(
    DirectorErrorCode.RateLimited,
    `Rate limited: ${kind} '${name}' may make ${limit.perSecond} requests per second (burst ${limit.burst}); retry in ${retryAfterMs} ms`,
    { retryAfterMs, limit: kind, [kind]: name },
  );
}

/** `Retry-After` in whole seconds, rounded up (RFC 9110 §10.2.3 has no fractions). */
export function retryAfterSeconds(refusal: RateRefusal): string {
  return String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)));
}

/** A refused HTTP request: 429 with `Retry-After` and the JSON-RPC error as the body. */
export function replyRateLimited(reply: Reply, id: RequestId | null, refusal: RateRefusal): void {
  reply.json(429, errorFrame(id, rateLimitedError(refusal)), {
    'Retry-After': retryAfterSeconds(refusal),
  });
}
