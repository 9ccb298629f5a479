/**
 * The daemon as an OAuth protected resource, as clients discover it
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization): which URLs are
 * its resources, the metadata document at `/.well-known/oauth-protected-resource`
 * (https://www.rfc-editor.org/rfc/rfc9728), and the `WWW-Authenticate` challenge of a 401 or 403
 * that points at it (https://www.rfc-editor.org/rfc/rfc6750#section-3).
 *
 * The URLs come from the config (`oauth.resource`, else the listening address), never from a
 * request's Host header: a token minted for another resource must not pass by naming it.
 */
import type { OauthIngressConfig } from '../../shared/config/types.js';

const METADATA_PATH = '/.well-known/oauth-protected-resource';

export interface Challenge {
  /** Absent when the request carried no token (RFC 6750 §3.1: then no error code). */
  error?: 'invalid_token' | 'insufficient_scope';
  description?: string;
}

export class ProtectedResource {
  readonly #config: OauthIngressConfig;
  readonly #base: string;

  /** `base`: the daemon's public URL without a trailing slash, e.g. `http://127.0.0.1:8765`. */
  constructor(config: OauthIngressConfig, base: string) {
    this.#config = config;
    this.#base = base;
  }

  /** `<base>/mcp` or `<base>/mcp/<profile>`: the resource a client of that endpoint uses. */
  resourceOf(profile: string | undefined): string {
    return profile === undefined ? `${this.#base}/mcp` : `${this.#base}/mcp/${profile}`;
  }

  /** What a token's `aud` may name: the configured audience, else any of these resources. */
  audiences(profiles: Iterable<string>): string[] {
    if (this.#config.audience !== null) return [this.#config.audience];
    return [
      this.#base,
      this.resourceOf(undefined),
      ...[...profiles].map((p) => this.resourceOf(p)),
    ];
  }

  /**
   * The metadata document for a `/.well-known/oauth-protected-resource[/mcp[/<profile>]]` path
   * (RFC 9728 §3.1 inserts the resource's path after the well-known one); undefined for any
   * other path or an unknown profile.
   */
  metadata(path: string, profiles: ReadonlySet<string>): Record<string, unknown> | undefined {
    if (!path.startsWith(METADATA_PATH)) return undefined;
    const rest = path.slice(METADATA_PATH.length).replace(/\/$/, '');
    let resource: string;
    if (rest === '') resource = this.#base;
    else if (rest === '/mcp') resource = this.resourceOf(undefined);
    else {
      const profile = /^\/mcp\/([^/]+)$/.exec(rest)?.[1];
      if (profile === undefined || !profiles.has(profile)) return undefined;
      resource = this.resourceOf(profile);
    }
    return {
      resource,
      authorization_servers: [this.#config.issuer],
      bearer_methods_supported: ['header'],
      ...(this.#config.scopes.length > 0 ? { scopes_supported: this.#config.scopes } : {}),
      resource_name: 'MCP Director',
    };
  }

  /** The `WWW-Authenticate` value for a refusal at the endpoint of `profile` (or `/mcp`). */
  challenge(profile: string | undefined, refusal: Challenge): string {
    const metadata =
      profile === undefined ? `${METADATA_PATH}/mcp` : `${METADATA_PATH}/mcp/${profile}`;
    const parts = [`realm="mcp-director"`, `resource_metadata="${this.#base}${metadata}"`];
    if (this.#config.scopes.length > 0)
      parts.push(`scope="${quotable(this.#config.scopes.join(' '))}"`);
    if (refusal.error !== undefined) parts.push(`error="${refusal.error}"`);
    if (refusal.description !== undefined) {
      parts.push(`error_description="${quotable(refusal.description)}"`);
    }
    return `Bearer ${parts.join(', ')}`;
  }
}

/**
 * `http://<host>:<port>` as a client on this machine reaches the daemon: a wildcard host as
 * `localhost`, an IPv6 one in brackets.
 */
export function localBaseUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  const shown = wildcard
    ? 'localhost'
    : host.includes(':') && !host.startsWith('[')
      ? `[${host}]`
      : host;
  return `http://${shown}:${port}`;
}

/** A quoted-string may not hold `"` or `\` unescaped, nor control characters (RFC 9110 §5.6.4). */
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[\u0000-\u001f\u007f]/g, ' ');
}
