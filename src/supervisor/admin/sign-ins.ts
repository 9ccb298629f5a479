/**
 * Signing the director in to remote servers (README: Signing in to remote servers): a
 * sign-in starts here (`auth login`, the dashboard), the browser comes back to
 * `/oauth/callback` with the code, and the tokens go to the credential store, where the shard
 * that owns the server reads them when it restarts the server. The OAuth protocol is the
 * SDK's (shared/credentials/oauth-client.ts, loaded on first use).
 *
 * A sign-in under way is known by its `state` (random, 16 bytes), kept ten minutes at most;
 * a callback with any other state is refused, so a forged redirect cannot plant tokens.
 */
import type * as OauthClient from '../../shared/credentials/oauth-client.js';
import type { HttpServerConfig } from '../../shared/config/types.js';
import type { CredentialStore } from '../../shared/credentials/credential-store.js';
import type { StoredOauthClient } from '../../shared/credentials/oauth-client.js';
import { signInTargetOf, type SignInTarget } from '../../shared/credentials/sign-in-target.js';
import { logger } from '../../shared/log.js';

const log = logger('sign-in');

type OauthClientModule = typeof OauthClient;
let oauthClient: Promise<OauthClientModule> | undefined;
const loadOauthClient = (): Promise<OauthClientModule> =>
  (oauthClient ??= import('../../shared/credentials/oauth-client.js'));

/** How long a started sign-in waits for its callback. */
const PENDING_MS = 10 * 60_000;
/** Sign-ins under way at once; past it the oldest is dropped. */
const MAX_PENDING = 100;

export class SignInError extends Error {
  readonly status: 400 | 404 | 409 | 502;
  constructor(status: 400 | 404 | 409 | 502, message: string) {
    super(message);
    this.status = status;
  }
}

/** What `auth status` shows of a sign-in: never a token. */
export interface SignInStatus {
  server: string;
  /** The identity signed in, for a `share: "identity"` server; absent: the server's own. */
  identity?: string;
  url: string;
  mode: HttpServerConfig['auth']['mode'];
  signedIn: boolean;
  /** ms since the epoch, when the access token says when it expires. */
  expiresAt?: number;
  refreshable?: boolean;
  scope?: string;
  /** The authorization server it is signed in with. */
  issuer?: string;
}

interface Pending {
  target: SignInTarget;
  client: StoredOauthClient;
  until: number;
}

export interface SignInsDeps {
  store: CredentialStore;
  /** The remote servers of the running config. */
  servers: () => readonly HttpServerConfig[];
  /** Where the authorization server sends the browser back: `<daemon>/oauth/callback`. */
  callbackUrl: () => string;
  /**
   * A sign-in finished or was removed: the server restarts with it (an identity's: that
   * identity's own instance stops, and its next call starts one).
   */
  restart: (server: string, identity: string | undefined) => void;
}

/** An identity names a credential file (shared/credentials/credential-store.ts). */
const IDENTITY = /^[A-Za-z0-9_-]{1,64}$/;

export class SignIns {
  readonly #deps: SignInsDeps;
  readonly #pending = new Map<string, Pending>();

  constructor(deps: SignInsDeps) {
    this.#deps = deps;
  }

  /** Starts a sign-in to `server` (as `identity`): the URL the user opens. */
  async begin(
    server: string,
    identity?: string,
  ): Promise<{ authorizationUrl: string; expiresAt: number }> {
    const config = this.#server(server, identity);
    const target = signInTargetOf(config, {
      redirectUrl: this.#deps.callbackUrl(),
      ...(identity === undefined ? {} : { identity }),
    });
    const { beginSignIn } = await loadOauthClient();
    let started: Awaited<ReturnType<OauthClientModule['beginSignIn']>>;
    try {
      started = await beginSignIn(this.#deps.store, target);
    } catch (error) {
      throw new SignInError(
        502,
        `Could not start a sign-in to '${server}' (${config.url}): ${messageOf(error)}`,
      );
    }
    this.#prune();
    const until = Date.now() + PENDING_MS;
    this.#pending.set(started.client.signInState, { target, client: started.client, until });
    log.info(
      `sign-in to '${server}'${asIdentity(identity)} started; waiting for the browser at ${target.redirectUrl ?? ''}`,
    );
    return { authorizationUrl: started.authorizationUrl.href, expiresAt: until };
  }

  /**
   * The browser came back: exchanges the code and restarts the server with its new tokens.
   * Resolves with the server's id.
   */
  async complete(query: URLSearchParams): Promise<string> {
    const state = query.get('state') ?? '';
    const pending = this.#pending.get(state);
    if (pending === undefined || pending.until < Date.now()) {
      throw new SignInError(
        400,
        'This sign-in is unknown or expired; start it again with `mcp-director auth login <server>`',
      );
    }
    this.#pending.delete(state);
    const server = pending.target.server;
    const denied = query.get('error');
    if (denied !== null) {
      const description = query.get('error_description');
      throw new SignInError(
        400,
        `The authorization server refused the sign-in to '${server}': ${denied}${description === null ? '' : ` (${description.slice(0, 200)})`}`,
      );
    }
    const code = query.get('code');
    if (code === null || code === '') throw new SignInError(400, 'The callback carries no code');
    const { finishSignIn } = await loadOauthClient();
    try {
      await finishSignIn(pending.client, pending.target, code);
    } catch (error) {
      throw new SignInError(
        502,
        `Signing in to '${server}' failed at the token exchange: ${messageOf(error)}`,
      );
    }
    const identity = pending.target.identity;
    log.info(`signed in to '${server}'${asIdentity(identity)}; restarting it with the new sign-in`);
    this.#deps.restart(server, identity);
    return server;
  }

  /** Forgets the sign-in of `server` (as `identity`); it restarts and then needs a new one. */
  signOut(server: string, identity?: string): boolean {
    this.#server(server, identity);
    const removed = this.#deps.store.remove(server, identity);
    if (removed) {
      log.info(`signed out of '${server}'${asIdentity(identity)}`);
      this.#deps.restart(server, identity);
    }
    return removed;
  }

  /** Every remote server that can sign in, with its sign-in (or none). */
  status(): SignInStatus[] {
    return this.#deps
      .servers()
      .filter((s) => s.auth.mode !== 'none')
      .flatMap((config) => [
        this.#statusOf(config, undefined),
        ...(config.share === 'identity' ? this.#identitiesOf(config.id) : []).map((identity) =>
          this.#statusOf(config, identity),
        ),
      ]);
  }

  /** The identities with a stored sign-in to `server`, in a stable order. */
  #identitiesOf(server: string): string[] {
    return this.#deps.store
      .identities(server)
      .filter((identity) => identity !== '')
      .sort();
  }

  #statusOf(config: HttpServerConfig, identity: string | undefined): SignInStatus {
    const status: SignInStatus = {
      server: config.id,
      ...(identity === undefined ? {} : { identity }),
      url: config.url,
      mode: config.auth.mode,
      signedIn: false,
    };
    let record;
    try {
      record = this.#deps.store.read(config.id, identity);
    } catch (error) {
      log.warn(
        `cannot read the sign-in of '${config.id}'${asIdentity(identity)}: ${messageOf(error)}`,
      );
      return status;
    }
    const tokens = record?.tokens;
    if (tokens === undefined || typeof tokens['access_token'] !== 'string') return status;
    status.signedIn = true;
    const expiresIn = tokens['expires_in'];
    if (typeof expiresIn === 'number' && typeof record?.tokensSavedAt === 'number') {
      status.expiresAt = record.tokensSavedAt + expiresIn * 1000;
    }
    status.refreshable = typeof tokens['refresh_token'] === 'string';
    if (typeof tokens['scope'] === 'string') status.scope = tokens['scope'];
    const issuer = tokens['issuer'] ?? record?.discoveryState?.['authorizationServerUrl'];
    if (typeof issuer === 'string') status.issuer = issuer;
    return status;
  }

  #server(server: string, identity: string | undefined): HttpServerConfig {
    const remote = this.#deps.servers();
    const config = remote.find((s) => s.id === server);
    if (config === undefined) {
      const known =
        remote
          .filter((s) => s.auth.mode !== 'none')
          .map((s) => `'${s.id}'`)
          .join(', ') || 'none';
      throw new SignInError(
        404,
        `No remote server named '${server}' in the running config; remote servers that can sign in: ${known}`,
      );
    }
    if (config.auth.mode === 'none') {
      throw new SignInError(
        409,
        `Server '${server}' does not sign in ("auth": "none", or static Authorization headers)`,
      );
    }
    if (identity !== undefined && config.share !== 'identity') {
      throw new SignInError(
        409,
        `Server '${server}' has one sign-in for everyone; only a server with "share": "identity" signs in per identity (leave out the identity)`,
      );
    }
    if (identity !== undefined && !IDENTITY.test(identity)) {
      throw new SignInError(
        400,
        `Not an identity: ${JSON.stringify(identity.slice(0, 80))}; an identity is a token's name or an OAuth user's (up to 64 of A-Z a-z 0-9 _ -)`,
      );
    }
    return config;
  }

  #prune(): void {
    const now = Date.now();
    for (const [state, pending] of this.#pending) {
      if (pending.until < now) this.#pending.delete(state);
    }
    while (this.#pending.size >= MAX_PENDING) {
      const oldest = this.#pending.keys().next();
      if (oldest.done === true) break;
      this.#pending.delete(oldest.value);
    }
  }
}

/** ` as '<identity>'` for log lines, or nothing for a server's own sign-in. */
function asIdentity(identity: string | undefined): string {
  return identity === undefined ? '' : ` as '${identity}'`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
