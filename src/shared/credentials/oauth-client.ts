/**
 * The director as an OAuth client of a remote server, per the MCP authorization spec
 * (https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization). The SDK's
 * client auth module does the protocol: protected resource and authorization server
 * discovery, dynamic client registration or a client ID metadata document, PKCE, the
 * `resource` indicator, scopes from the challenge, code exchange and refresh. This module is
 * its `OAuthClientProvider` over the credential store, and the three moments the director
 * needs: starting a sign-in (supervisor, `auth login`), finishing it at `/oauth/callback`
 * (supervisor), and refreshing (the shard that owns the server, channels/authorized-fetch.ts).
 *
 * Loaded on demand (dynamic import): a shard with no server that signs in never loads the SDK.
 */
import { randomBytes } from 'node:crypto';
import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientProvider,
  OAuthDiscoveryState,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CredentialRecord, CredentialStore } from './credential-store.js';
import type { SignInTarget } from './sign-in-target.js';

/** A shard's redirect URI before any sign-in: never used, since a shard never signs in. */
const UNREGISTERED_REDIRECT = 'http://localhost/oauth/callback';
/** Refresh this long before the access token expires, so no request meets an expired one. */
const REFRESH_MARGIN_MS = 60_000;

/** The SDK's provider interface over one stored record; every change is written through. */
export class StoredOauthClient implements OAuthClientProvider {
  readonly #store: CredentialStore;
  readonly #target: SignInTarget;
  #record: CredentialRecord;
  /** The authorization URL the SDK built for a sign-in (it asks us to "redirect" there). */
  authorizationUrl: URL | undefined;
  /** The `state` of the sign-in under way, checked at the callback. */
  readonly signInState = randomBytes(16).toString('base64url');
  readonly clientMetadataUrl?: string;

  constructor(store: CredentialStore, target: SignInTarget) {
    this.#store = store;
    this.#target = target;
    this.#record = store.read(target.server, target.identity) ?? {};
    if (target.clientMetadataUrl !== undefined) this.clientMetadataUrl = target.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.#target.redirectUrl ?? this.#record.redirectUrl ?? UNREGISTERED_REDIRECT;
  }

  get clientMetadata(): OAuthClientMetadata {
    const scope = this.#target.scopes?.join(' ');
    return {
      client_name: 'MCP Director',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method:
        this.#target.clientSecret === undefined ? 'none' : 'client_secret_post',
      ...(scope === undefined || scope === '' ? {} : { scope }),
    };
  }

  state(): string {
    return this.signInState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const { clientId, clientSecret } = this.#target;
    const stored = this.#record.clientInformation as OAuthClientInformationMixed | undefined;
    if (clientId !== undefined) {
      // A configured client wins; the issuer binding the SDK stamped on it is kept.
      return stored?.client_id === clientId
        ? stored
        : {
            client_id: clientId,
            ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
          };
    }
    // Registered for another redirect URI (the daemon moved ports): register again.
    const uris = (stored as { redirect_uris?: unknown } | undefined)?.redirect_uris;
    return Array.isArray(uris) && !uris.includes(this.redirectUrl) ? undefined : stored;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.#save({ clientInformation: { ...information }, redirectUrl: this.redirectUrl });
  }

  tokens(): OAuthTokens | undefined {
    return this.#record.tokens as OAuthTokens | undefined;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#save({ tokens: { ...tokens }, tokensSavedAt: Date.now() });
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    this.authorizationUrl = authorizationUrl;
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#save({ codeVerifier });
  }

  codeVerifier(): string {
    const verifier = this.#record.codeVerifier;
    if (verifier === undefined) throw new Error('no sign-in is under way for this server');
    return verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    const record = { ...this.#record };
    if (scope === 'all' || scope === 'client') delete record.clientInformation;
    if (scope === 'all' || scope === 'tokens') {
      delete record.tokens;
      delete record.tokensSavedAt;
    }
    if (scope === 'all' || scope === 'verifier') delete record.codeVerifier;
    if (scope === 'all' || scope === 'discovery') delete record.discoveryState;
    this.#record = record;
    this.#store.write(this.#target.server, record, this.#target.identity);
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#record.discoveryState as OAuthDiscoveryState | undefined;
  }

  saveDiscoveryState(state: object): void {
    this.#save({ discoveryState: { ...state } });
  }

  /** The access token, unless none is stored. */
  get accessToken(): string | undefined {
    const token = this.#record.tokens?.['access_token'];
    return typeof token === 'string' ? token : undefined;
  }

  /** Whether the access token expires within the refresh margin (and can be refreshed). */
  get refreshDue(): boolean {
    const { tokens, tokensSavedAt } = this.#record;
    const expiresIn = tokens?.['expires_in'];
    if (typeof expiresIn !== 'number' || typeof tokensSavedAt !== 'number') return false;
    if (typeof tokens?.['refresh_token'] !== 'string') return false;
    return tokensSavedAt + expiresIn * 1000 - REFRESH_MARGIN_MS <= Date.now();
  }

  #save(changes: Partial<CredentialRecord>): void {
    this.#record = { ...this.#record, ...changes };
    this.#store.write(this.#target.server, this.#record, this.#target.identity);
  }
}

/**
 * Starts a sign-in: forgets the old tokens, discovers, registers if needed, and returns the
 * URL to open with the provider (whose `signInState` the callback must bring back).
 */
export async function beginSignIn(
  store: CredentialStore,
  target: SignInTarget,
): Promise<{ authorizationUrl: URL; client: StoredOauthClient }> {
  const client = new StoredOauthClient(store, target);
  client.invalidateCredentials('tokens');
  const result = await auth(client, { serverUrl: target.url, ...scopeOf(target) });
  if (result !== 'REDIRECT' || client.authorizationUrl === undefined) {
    throw new Error('the authorization server issued tokens without a sign-in');
  }
  return { authorizationUrl: client.authorizationUrl, client };
}

/** Finishes a sign-in with the code the callback brought: exchanges it and stores the tokens. */
export async function finishSignIn(
  client: StoredOauthClient,
  target: SignInTarget,
  code: string,
): Promise<void> {
  const result = await auth(client, {
    serverUrl: target.url,
    authorizationCode: code,
    ...scopeOf(target),
  });
  if (result !== 'AUTHORIZED') throw new Error('the authorization server did not issue tokens');
}

/**
 * Refreshes the tokens (before expiry, or after a 401 `response`); false when the server
 * needs a new sign-in (no refresh token, or it was refused). Never starts a sign-in itself.
 */
export async function refreshSignIn(
  client: StoredOauthClient,
  target: SignInTarget,
  response?: Response,
): Promise<boolean> {
  if (typeof client.tokens()?.refresh_token !== 'string') return false;
  const challenge = response === undefined ? {} : extractWWWAuthenticateParams(response);
  const result = await auth(client, {
    serverUrl: target.url,
    ...(challenge.resourceMetadataUrl === undefined
      ? {}
      : { resourceMetadataUrl: challenge.resourceMetadataUrl }),
    ...(challenge.scope === undefined ? scopeOf(target) : { scope: challenge.scope }),
  });
  return result === 'AUTHORIZED' && client.accessToken !== undefined;
}

function scopeOf(target: SignInTarget): { scope?: string } {
  const scope = target.scopes?.join(' ');
  return scope === undefined || scope === '' ? {} : { scope };
}
