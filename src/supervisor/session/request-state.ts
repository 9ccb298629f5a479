/**
 * The `requestState` MCP Director mints when it answers a stateless-era client with
 * `input_required` on behalf of a legacy backend (docs/architecture.md#bridging-the-eras). The
 * client holds it between rounds and may alter it, so it is sealed: an HMAC-SHA256 over what it
 * names (the parked call), whom it was issued to (the profile and the caller's identity, so
 * another token of the same profile cannot take over the call), for which request (method and a
 * digest of the params) and until when, and which node holds the call. The key is random per
 * daemon run for a daemon alone (a parked call does not outlive the daemon either), and the
 * cluster's for a node of several (supervisor/session/cluster-node.ts), so a node can tell
 * a genuine state of another node's from an altered one.
 *
 * Format: `mcpd1.<payload base64url>.<mac base64url>`. The prefix lets the director tell
 * its own state from a stateless backend's, which it passes through untouched.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { JsonObject, JsonValue } from '../../shared/json.js';
import { isJsonObject, omit } from '../../shared/json.js';

const PREFIX = 'mcpd1.';

export interface StateClaims {
  /** The parked call's token. */
  call: string;
  profile: string;
  /** The caller's identity (supervisor/ingress/access.ts); '' or null without a token. */
  identity: string | null;
  method: string;
  /** sha256 of the request params without the MRTR members and `_meta`. */
  digest: string;
  /** Expiry, ms since the epoch. */
  expires: number;
  /** The node holding the parked call, for a daemon that is one of several. */
  node?: string;
}

export type Unsealed = { ok: true; claims: StateClaims } | { ok: false; reason: string };

export class RequestStateSealer {
  readonly #key: Buffer;
  readonly #node: string | null;

  /** `key`: `ClusterNode.stateKey()`; `node`: this node's id, null for a daemon alone. */
  constructor(key: Buffer = randomBytes(32), node: string | null = null) {
    this.#key = key;
    this.#node = node;
  }

  seal(unplaced: Omit<StateClaims, 'node'>): string {
    const claims: StateClaims = this.#node === null ? unplaced : { ...unplaced, node: this.#node };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${PREFIX}${payload}.${this.#mac(payload)}`;
  }

  /** Verifies a state against the request it came back with. */
  unseal(
    state: string,
    expected: { profile: string; identity: string | null; method: string; digest: string },
  ): Unsealed {
    const [payload, mac] = state.slice(PREFIX.length).split('.');
    if (payload === undefined || mac === undefined || !this.#macMatches(payload, mac)) {
      return { ok: false, reason: 'it was not issued by this MCP Director or was altered' };
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as StateClaims;
    if (claims.expires < Date.now()) return { ok: false, reason: 'it has expired' };
    if ((claims.node ?? null) !== this.#node) {
      return {
        ok: false,
        reason: `the request it continues is held by node '${claims.node ?? '?'}', not this one (its retry must reach that node)`,
      };
    }
    if (claims.profile !== expected.profile) {
      return { ok: false, reason: 'it was issued to another profile' };
    }
    if (claims.identity !== expected.identity) {
      return { ok: false, reason: 'it was issued to another token or user' };
    }
    if (claims.method !== expected.method || claims.digest !== expected.digest) {
      return { ok: false, reason: 'it belongs to a different request (method or params differ)' };
    }
    return { ok: true, claims };
  }

  /**
   * The node holding the call a genuine state of another node continues; undefined for this
   * node's states, altered ones, and a daemon alone.
   */
  nodeOf(state: string): string | undefined {
    if (this.#node === null) return undefined;
    const [payload, mac] = state.slice(PREFIX.length).split('.');
    if (payload === undefined || mac === undefined || !this.#macMatches(payload, mac)) {
      return undefined;
    }
    const node: unknown = (
      JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
        node?: unknown;
      }
    ).node;
    return typeof node === 'string' && node !== this.#node ? node : undefined;
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }

  #macMatches(payload: string, mac: string): boolean {
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Whether a `requestState` is one the director minted (as opposed to a backend's own). */
export function isDirectorState(state: unknown): state is string {
  return typeof state === 'string' && state.startsWith(PREFIX);
}

/** The digest binding a state to its request: params minus the retry members and `_meta`. */
export function requestDigest(params: JsonObject): string {
  const salient = omit(params, ['inputResponses', 'requestState', '_meta']);
  return createHash('sha256').update(stableJson(salient)).digest('base64url');
}

/** JSON with object keys sorted, so equal params give equal digests whatever their order. */
function stableJson(value: JsonValue | undefined): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
