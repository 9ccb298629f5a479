/**
 * A remote server's requests with its OAuth sign-in (README: Signing in to remote servers):
 * a `fetch` for the HTTP channels that adds the stored access token, refreshes it shortly
 * before it expires, and on a 401 with a Bearer challenge refreshes once and sends the
 * request again, so callers never see an expired token. When no token can be had (never
 * signed in, or the refresh was refused: revoked), the request fails with `NeedsSignIn` and
 * the channel ends as `needs-auth` (backend-lifecycle.ts) until `mcp-director auth login`.
 *
 * The OAuth work itself is the SDK's, through shared/credentials/oauth-client.ts, loaded only
 * when a server has a stored sign-in or is challenged. A server with static `Authorization`
 * headers, or `"auth": "none"`, gets no such fetch.
 */
import type * as OauthClient from '../../shared/credentials/oauth-client.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { StoredOauthClient } from '../../shared/credentials/oauth-client.js';
import { signInTargetOf, type SignInTarget } from '../../shared/credentials/sign-in-target.js';
import type { HttpServerConfig } from '../../shared/config/types.js';
import type { Fetch } from './reachability.js';

type OauthClientModule = typeof OauthClient;
let oauthClient: Promise<OauthClientModule> | undefined;

/** The request cannot be authorized until someone signs in again. */
export class NeedsSignIn extends Error {}

/** The `auth login` command a user runs for `server`, in the words of every needs-auth error. */
function signInHint(server: string, identity: string | undefined): string {
  // Signing in is an admin's act (the API is admin-only): a user is told what to ask for.
  if (identity === undefined) return `run \`mcp-director auth login ${server}\``;
  return `ask an admin to run \`mcp-director auth login ${server} --as ${identity}\``;
}

export class UpstreamSignIn {
  readonly #store: CredentialStore;
  readonly #target: SignInTarget;
  readonly #mode: HttpServerConfig['auth']['mode'];
  #client: StoredOauthClient | undefined;
  #refreshing: Promise<boolean> | null = null;
  /** No stored sign-in and not configured to need one (until a challenge says otherwise). */
  #unsigned: boolean | undefined;

  constructor(store: CredentialStore, config: HttpServerConfig, identity?: string) {
    this.#store = store;
    this.#mode = config.auth.mode;
    this.#target = signInTargetOf(config, identity === undefined ? {} : { identity });
  }

  /** Whether a server of this config may sign in at all. */
  static applies(config: HttpServerConfig): boolean {
    return config.auth.mode !== 'none';
  }

  /** The access token for the next request (refreshed first when it is about to expire). */
  async bearer(): Promise<string | undefined> {
    if (this.#client === undefined) {
      // Looked up once per channel: a sign-in restarts the server, so a new channel sees it.
      this.#unsigned ??=
        this.#mode !== 'oauth' && !this.#store.has(this.#target.server, this.#target.identity);
      if (this.#unsigned) return undefined; // never signed in, not known to need it: no OAuth
      await this.#load();
    }
    const client = this.#client as StoredOauthClient;
    if (client.refreshDue) await this.#refresh();
    const token = client.accessToken;
    if (token === undefined) throw new NeedsSignIn(this.#needsSignIn('it is not signed in'));
    return token;
  }

  /**
   * A 401: true when a fresh token was had (send again); else why the server needs a sign-in.
   * A 401 without a Bearer challenge is not about OAuth, unless the config says it is.
   */
  async unauthorized(response: Response): Promise<true | NeedsSignIn | undefined> {
    const challenge = response.headers.get('www-authenticate') ?? '';
    if (this.#mode !== 'oauth' && !/^\s*Bearer\b/i.test(challenge)) return undefined;
    if (this.#client === undefined) await this.#load();
    const client = this.#client as StoredOauthClient;
    if (client.tokens() === undefined)
      return new NeedsSignIn(this.#needsSignIn('it is not signed in'));
    if (await this.#refresh(response)) return true;
    return new NeedsSignIn(this.#needsSignIn('its sign-in expired or was revoked'));
  }

  /** After a refresh the server still refused the token. */
  refused(): NeedsSignIn {
    return new NeedsSignIn(this.#needsSignIn('it refuses a freshly refreshed token (scopes?)'));
  }

  async #load(): Promise<void> {
    oauthClient ??= import('../../shared/credentials/oauth-client.js');
    const { StoredOauthClient } = await oauthClient;
    this.#client ??= new StoredOauthClient(this.#store, this.#target);
  }

  /** One refresh at a time; concurrent requests wait for it. */
  #refresh(response?: Response): Promise<boolean> {
    this.#refreshing ??= (async () => {
      const { refreshSignIn } = await (oauthClient as Promise<OauthClientModule>);
      try {
        return await refreshSignIn(this.#client as StoredOauthClient, this.#target, response);
      } catch {
        return false;
      }
    })().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  #needsSignIn(why: string): string {
    const { server, identity } = this.#target;
    const whose = identity === undefined ? '' : ` for identity '${identity}'`;
    return `Server '${server}' needs a sign-in${whose}: ${why}; ${signInHint(server, identity)}`;
  }
}

/**
 * `fetch` with the sign-in: the bearer on every request, one refresh and retry on a 401;
 * `onNeedsSignIn` hears (once per request) when no token can be had, and the request fails.
 */
export function authorizedFetch(
  inner: Fetch,
  signIn: UpstreamSignIn,
  onNeedsSignIn: (error: NeedsSignIn) => void,
): Fetch {
  const withBearer = (init: RequestInit | undefined, token: string | undefined): RequestInit => {
    if (token === undefined) return init ?? {};
    const headers = new Headers(init?.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return { ...init, headers };
  };
  const needsSignIn = (error: NeedsSignIn): never => {
    onNeedsSignIn(error);
    throw error;
  };
  return async (input, init) => {
    const first = await signIn
      .bearer()
      .catch((error: unknown) =>
        error instanceof NeedsSignIn ? needsSignIn(error) : Promise.reject(error),
      );
    const response = await inner(input, withBearer(init, first));
    if (response.status !== 401) return response;
    const verdict = await signIn.unauthorized(response);
    if (verdict === undefined) return response;
    if (verdict instanceof NeedsSignIn) return needsSignIn(verdict);
    await response.body?.cancel().catch(() => undefined);
    const again = await inner(input, withBearer(init, await signIn.bearer()));
    return again.status === 401 ? needsSignIn(signIn.refused()) : again;
  };
}
