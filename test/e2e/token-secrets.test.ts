/**
 * Static credentials per token (README: Credentials per user): a `share: "identity"` stdio
 * server whose `env` says `${token.API_KEY}` runs one process per calling token, each with
 * that token's `secrets.API_KEY`; the shared process (which lists the tools) runs without
 * it; a token that gives no value gets a clear error; `/api/config` masks every value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';

const ADMIN = 'admin-token-0123456789abcdef0123456789';
const ALICE = 'alice-token-0123456789abcdef0123456789';
const BOB = 'bob-token-0123456789abcdef012345678901';
const CAROL = 'carol-token-0123456789abcdef012345678';

describe('${token.X}: static credentials per token', () => {
  let daemon: Daemon;
  const clients: Client[] = [];

  const connect = async (token: string): Promise<Client> => {
    const client = await connectWithToken(daemon, token, { name: 'token-secrets-e2e' });
    clients.push(client);
    return client;
  };
  /** The API_KEY the calling token's process sees, or the error's message. */
  const apiKeyOf = (client: Client, tool = 'keyed__env'): Promise<string> =>
    client.callTool({ name: tool, arguments: { name: 'API_KEY' } }).then(
      (result) => textOf(result),
      (error: Error) => error.message,
    );

  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        keyed: {
          ...fixture('echo-server'),
          share: 'identity',
          env: { API_KEY: 'key-${token.API_KEY}', PLAIN: 'same-for-all' },
        },
      },
      profiles: { alpha: { servers: ['keyed'] }, beta: { servers: ['keyed'] } },
      tokens: {
        admin: { token: ADMIN, admin: true },
        alice: { token: ALICE, profile: 'alpha', secrets: { API_KEY: 'alice-secret' } },
        bob: { token: BOB, profile: 'beta', secrets: { API_KEY: 'bob-secret' } },
        carol: { token: CAROL, profile: 'beta' },
      },
    });
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await daemon?.stop();
  });

  test("each token's process gets that token's value", async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    const keys = await Promise.all([apiKeyOf(alice), apiKeyOf(bob), apiKeyOf(alice)]);
    assert.deepEqual(keys, ['key-alice-secret', 'key-bob-secret', 'key-alice-secret']);
    const plain = await alice.callTool({ name: 'keyed__env', arguments: { name: 'PLAIN' } });
    assert.equal(textOf(plain), 'same-for-all');
  });

  test('the shared process, used without a token identity, never has a user value', async () => {
    const response = await fetch(`${daemon.base}/api/tools/call`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        tool: 'keyed__env',
        profile: 'alpha',
        arguments: { name: 'API_KEY' },
      }),
    });
    const body = (await response.json()) as { result?: unknown };
    assert.equal(response.status, 200);
    assert.equal(textOf(body.result), '');
  });

  test('a token without the value gets an error naming the setting', async () => {
    const carol = await connect(CAROL);
    assert.match(
      await apiKeyOf(carol),
      /takes \$\{token\.API_KEY\} from the calling token, and identity 'carol' has no value for it: set tokens\.carol\.secrets\.API_KEY/,
    );
  });

  test('/api/config masks the token values', async () => {
    const response = await fetch(`${daemon.base}/api/config`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.doesNotMatch(text, /alice-secret|bob-secret/);
    assert.match(text, /"secrets"/);
  });
});
