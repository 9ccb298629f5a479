/**
 * The OAuth-protected fixture (test/fixtures/oauth-server.ts) works the way the MCP
 * authorization spec (https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization)
 * says a client meets it, driven by the official SDK client's OAuth support as a real client
 * would be: a 401 names the protected resource metadata, the client discovers the authorization
 * server, registers itself, signs in with PKCE and a resource indicator, refreshes an expired
 * token on its own, and a revoked sign-in stays out until the client signs in again. The tests
 * of the director signing in to remote backends build on exactly this behaviour.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import type { HttpFixture } from '../helpers/http-fixture.js';
import { textOf } from '../helpers/mcp.js';

/** Never contacted: the test reads the code off the authorization response's Location. */
const REDIRECT_URL = 'http://127.0.0.1:9/oauth/callback';

interface Stats {
  authorizations: number;
  tokenExchanges: number;
  refreshes: number;
  mcpRequests: number;
  registeredClients: number;
}

/**
 * An in-memory OAuth client, as the director will keep one per remote backend and user. Its
 * "browser" follows the authorization URL once, without following the redirect, and keeps the
 * code for `finishAuth`.
 */
class TestOAuthClient implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier: string | undefined;
  expectedState: string | undefined;
  /** The code from the last authorization, taken by `takeCode()`. */
  code: string | undefined;
  readonly authorizationUrls: URL[] = [];

  constructor(private readonly loginHint?: string) {}

  get redirectUrl(): string {
    return REDIRECT_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'oauth-fixture test',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.expectedState = randomBytes(16).toString('base64url');
    return this.expectedState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(client: OAuthClientInformationMixed): void {
    this.client = client;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no PKCE verifier saved');
    return this.verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    if (this.loginHint !== undefined) url.searchParams.set('login_hint', this.loginHint);
    this.authorizationUrls.push(new URL(url));
    const response = await fetch(url, { redirect: 'manual' });
    await response.body?.cancel();
    const location = response.headers.get('location');
    assert.equal(response.status, 302, `authorization answered ${response.status}`);
    assert.ok(location, 'authorization redirect has a Location');
    const back = new URL(location);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URL);
    assert.equal(back.searchParams.get('error'), null, `authorization failed: ${location}`);
    assert.equal(back.searchParams.get('state'), this.expectedState);
    const code = back.searchParams.get('code');
    assert.ok(code, 'authorization redirect carries a code');
    this.code = code;
  }

  takeCode(): string {
    const code = this.code;
    assert.ok(code, 'an authorization ran');
    this.code = undefined;
    return code;
  }
}

function newClient(): Client {
  return new Client({ name: 'oauth-fixture-test', version: '1.0.0' });
}

/**
 * The SDK's sign-in: connecting gets a 401, `auth()` registers and "redirects" (the provider
 * fetches the authorization URL), the connect fails with UnauthorizedError, `finishAuth(code)`
 * exchanges the code, and a new connection carries the token.
 */
async function signIn(url: string, oauth: TestOAuthClient): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth });
  await assert.rejects(newClient().connect(first), UnauthorizedError);
  await first.finishAuth(oauth.takeCode());
  await first.close();
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth }));
  return client;
}

async function whoami(client: Client): Promise<string> {
  return textOf(await client.callTool({ name: 'whoami', arguments: {} }));
}

describe('OAuth-protected fixture server', () => {
  let fixture: HttpFixture;
  let origin: string;
  const clients: Client[] = [];

  const stats = async (): Promise<Stats> =>
    (await (await fetch(`${origin}/test/stats`)).json()) as Stats;
  const control = async (action: 'revoke' | 'expire', subject: string): Promise<void> => {
    const response = await fetch(`${origin}/test/${action}?subject=${subject}`, {
      method: 'POST',
    });
    assert.equal(response.status, 200, await response.text());
  };
  const connected = async (oauth: TestOAuthClient): Promise<Client> => {
    const client = await signIn(fixture.url, oauth);
    clients.push(client);
    return client;
  };

  before(async () => {
    fixture = await startHttpFixture('oauth-server.js', ['--access-ttl', '600']);
    origin = new URL(fixture.url).origin;
  });
  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await fixture?.stop();
  });

  test('without a token /mcp answers 401 naming its resource metadata, which leads to the AS', async () => {
    const response = await fetch(fixture.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    await response.body?.cancel();
    assert.equal(response.status, 401);
    const prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.ok(challenge.includes(`resource_metadata="${prmUrl}"`), challenge);

    for (const url of [prmUrl, `${origin}/.well-known/oauth-protected-resource`]) {
      const prm = (await (await fetch(url)).json()) as Record<string, unknown>;
      assert.equal(prm['resource'], fixture.url, url);
      assert.deepEqual(prm['authorization_servers'], [`${origin}/`], url);
    }
    const as = (await (
      await fetch(`${origin}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    assert.equal(as['registration_endpoint'], `${origin}/register`);
    assert.deepEqual(as['code_challenge_methods_supported'], ['S256']);
    assert.ok((as['grant_types_supported'] as string[]).includes('refresh_token'));
  });

  test('the SDK client signs in and whoami names the default subject', async () => {
    const before = await stats();
    const oauth = new TestOAuthClient();
    const client = await connected(oauth);
    assert.equal(await whoami(client), 'subject=user-1');
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    assert.equal(textOf(echoed), 'hello');

    const [authorization] = oauth.authorizationUrls;
    assert.equal(authorization?.searchParams.get('resource'), fixture.url);
    assert.equal(authorization?.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(oauth.saved?.refresh_token, 'a refresh token was issued');
    const after = await stats();
    assert.equal(after.registeredClients - before.registeredClients, 1);
    assert.equal(after.authorizations - before.authorizations, 1);
    assert.equal(after.tokenExchanges - before.tokenExchanges, 1);
    assert.ok(after.mcpRequests > before.mcpRequests);
  });

  test('login_hint chooses the subject, so two sign-ins are two identities', async () => {
    const alice = await connected(new TestOAuthClient('alice'));
    const bob = await connected(new TestOAuthClient('bob'));
    assert.equal(await whoami(alice), 'subject=alice');
    assert.equal(await whoami(bob), 'subject=bob');
  });

  test('an expired access token is refreshed by the SDK client without a new sign-in', async () => {
    const oauth = new TestOAuthClient('erin');
    const client = await connected(oauth);
    const first = oauth.saved;
    const before = await stats();
    await control('expire', 'erin');

    assert.equal(await whoami(client), 'subject=erin');
    const after = await stats();
    assert.equal(after.refreshes - before.refreshes, 1);
    assert.equal(after.authorizations, before.authorizations, 'no new authorization');
    assert.notEqual(oauth.saved?.access_token, first?.access_token);
    assert.equal(oauth.saved?.refresh_token, first?.refresh_token, 'refresh token kept');
  });

  test('a revoked subject is refused, its refresh token is dead, and a new sign-in works', async () => {
    const oauth = new TestOAuthClient('mallory');
    const client = await connected(oauth);
    const old = oauth.saved;
    assert.ok(old?.refresh_token);
    const clientId = oauth.client?.client_id;
    assert.ok(clientId);
    await control('revoke', 'mallory');

    const refused = await fetch(fixture.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${old.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    await refused.body?.cancel();

    const refresh = await fetch(`${origin}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: old.refresh_token,
        client_id: clientId,
        resource: fixture.url,
      }),
    });
    assert.equal(refresh.status, 400);
    assert.equal(((await refresh.json()) as { error?: unknown }).error, 'invalid_grant');

    // The SDK client tries its refresh token, gets invalid_grant, drops its tokens and starts
    // a new authorization: the call fails until the client finishes it.
    const before = await stats();
    await assert.rejects(whoami(client), UnauthorizedError);
    const after = await stats();
    assert.equal(after.refreshes, before.refreshes, 'no refresh succeeded');
    assert.equal(after.authorizations - before.authorizations, 1, 'a new authorization began');
    assert.equal(oauth.saved, undefined, 'the client dropped its tokens');

    const again = new StreamableHTTPClientTransport(new URL(fixture.url), { authProvider: oauth });
    await again.finishAuth(oauth.takeCode());
    const back = newClient();
    clients.push(back);
    await back.connect(again);
    assert.equal(await whoami(back), 'subject=mallory');
  });

  test('test controls name a subject', async () => {
    const response = await fetch(`${origin}/test/revoke`, { method: 'POST' });
    assert.equal(response.status, 400);
    await response.body?.cancel();
  });
});
