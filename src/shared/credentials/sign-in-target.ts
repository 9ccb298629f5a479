/**
 * One server's sign-in, as the OAuth client (oauth-client.ts) needs it: where the server is
 * and how the director presents itself there. Apart from oauth-client.ts so that building
 * one does not load the SDK.
 */
import type { HttpServerConfig } from '../config/types.js';

export interface SignInTarget {
  server: string;
  /** Signs in per identity (a token or profile) when set; else the server's one sign-in. */
  identity?: string;
  /** The server's MCP endpoint. */
  url: string;
  /**
   * Where the authorization server sends the browser back (the daemon's `/oauth/callback`).
   * Absent (a shard, which only refreshes): the one the client was registered with.
   */
  redirectUrl?: string;
  scopes?: readonly string[];
  /** A client registered ahead of time, instead of dynamic registration. */
  clientId?: string;
  clientSecret?: string;
  /** A client ID metadata document (an https URL) for servers that accept one. */
  clientMetadataUrl?: string;
}

/** The sign-in of a configured remote server. */
export function signInTargetOf(
  config: HttpServerConfig,
  options: { redirectUrl?: string; identity?: string } = {},
): SignInTarget {
  const { scopes, clientId, clientSecret, clientMetadataUrl } = config.auth;
  return {
    server: config.id,
    url: config.url,
    scopes,
    ...options,
    ...(clientId === undefined ? {} : { clientId }),
    ...(clientSecret === undefined ? {} : { clientSecret }),
    ...(clientMetadataUrl === undefined ? {} : { clientMetadataUrl }),
  };
}
