/**
 * Static credentials per token (README: Credentials per user): a `share: "identity"` stdio
 * server whose `env` says `${token.API_KEY}` runs one process per calling token, each with
 * that token's `secrets.API_KEY` (and `${token.REGION:-eu}` its default when the token gives
 * none); the shared process (which lists the tools) has no user's value; a token that gives
 * no value gets a clear error, a request without a token is refused, and the dashboard's
 * try-out goes as the admin's token; `/api/config` masks every value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectWithToken, textOf } from '../helpers/mcp.js';

const ADMIN = 'admin-token-0123456789abcdef0123456789';
const ALICE = 'alice-token-0123456789abcdef0123456789';
const BOB = 'bob-token-0123456789abcdef012345678901';
const CAROL = 'carol-token-0123456789abcdef012345678';
const DAVE = 'dave-token-0123456789abcdef0123456789';
const ERIN = 'erin-token-0123456789abcdef0123456789';

describe('${token.X}: static credentials per token', () => {
  let daemon: Daemon;
  const clients: Client[] = [];

  const connect = async (token: string): Promise<Client> => {
    const client = await connectWithToken(daemon, token, { name: 'token-secrets-e2e' });
    clients.push(client);
    return client;
  };
  /** The API_KEY the calling token's process sees, or the error's message. */
  const envOf = (client: Client, name = 'API_KEY'): Promise<string> =>
    client.callTool({ name: 'keyed__env', arguments: { name } }).then(
      (result) => textOf(result),
      (error: Error) => error.message,
    );

  before(async () => {
    daemon = await startDaemon(
      {
        mcpServers: {
          keyed: {
            ...fixture('echo-server'),
            share: 'identity',
            env: {
              API_KEY: 'key-${token.API_KEY}',
              REGION: '${token.REGION:-${DEFAULT_REGION}}',
              PLAIN: 'same-for-all',
            },
          },
        },
        profiles: {
          alpha: { servers: ['keyed'] },
          beta: { servers: ['keyed'] },
          // No token is for it: anyone may use it, without an identity.
          open: { servers: ['keyed'] },
        },
        tokens: {
          admin: { token: ADMIN, admin: true },
          alice: {
            token: ALICE,
            profile: 'alpha',
            secrets: { API_KEY: 'alice-secret', REGION: 'us' },
          },
          bob: { token: BOB, profile: 'beta', secrets: { API_KEY: 'bob-secret' } },
          carol: { token: CAROL, profile: 'beta' },
          dave: { token: DAVE, profile: 'beta', secrets: { API_KEY: 'dave-secret' } },
          erin: { token: ERIN, profile: 'beta', secrets: { API_KEY: 'erin-secret' } },
        },
        // alice, bob and dave: the third is the last a token may start.
        limits: { maxOwnInstancesPerServer: 3 },
      },
      { env: { DEFAULT_REGION: 'eu' } },
    );
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await daemon?.stop();
  });

  test("each token's process gets that token's value", async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    const keys = await Promise.all([envOf(alice), envOf(bob), envOf(alice)]);
    assert.deepEqual(keys, ['key-alice-secret', 'key-bob-secret', 'key-alice-secret']);
    const plain = await alice.callTool({ name: 'keyed__env', arguments: { name: 'PLAIN' } });
    assert.equal(textOf(plain), 'same-for-all');
  });

  test('defaults fill in for a token without its own value', async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    assert.deepEqual(await Promise.all([envOf(alice, 'REGION'), envOf(bob, 'REGION')]), [
      'us',
      'eu',
    ]);
  });

  test("the shared process (the tool list's) has no user's value, only the defaults", async () => {
    const servers = (await (
      await fetch(`${daemon.base}/api/servers`, { headers: { Authorization: `Bearer ${ADMIN}` } })
    ).json()) as { servers: Array<{ id: string; pid?: number }> };
    const pid = servers.servers.find((server) => server.id === 'keyed')?.pid;
    assert.ok(pid !== undefined, JSON.stringify(servers));
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('REGION=eu'), environ.join(' '));
    assert.ok(environ.includes('PLAIN=same-for-all'));
    assert.ok(!environ.some((entry) => entry.startsWith('API_KEY=')), environ.join(' '));
  });

  test('a request without a token is refused, never carried by the shared process', async () => {
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
    await anonymous.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/open`)));
    clients.push(anonymous);
    assert.match(
      await envOf(anonymous),
      /acts as each caller's own account \("share": "identity"\), and this request has no identity/,
    );
  });

  test("the dashboard's try-out goes as the admin's own token", async () => {
    const response = await fetch(`${daemon.base}/api/tools/call`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        tool: 'keyed__env',
        profile: 'alpha',
        arguments: { name: 'API_KEY' },
      }),
    });
    const body = (await response.json()) as { error?: { message: string } };
    assert.equal(response.status, 200);
    assert.match(body.error?.message ?? '', /identity 'admin' has no value for it/);
  });

  test('a token without the value gets an error naming the setting', async () => {
    const carol = await connect(CAROL);
    assert.match(
      await envOf(carol),
      /takes \$\{token\.API_KEY\} from the calling token, and identity 'carol' has no value for it: set tokens\.carol\.secrets\.API_KEY/,
    );
  });

  test("resource updates of a token's own process reach only that token's subscribed sessions", async () => {
    const [alice1, alice2, bob] = await Promise.all([connect(ALICE), connect(ALICE), connect(BOB)]);
    const updates = new Map<Client, number>([
      [alice1, 0],
      [alice2, 0],
      [bob, 0],
    ]);
    for (const client of updates.keys()) {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => {
        updates.set(client, (updates.get(client) ?? 0) + 1);
      });
      await client.subscribeResource({ uri: 'echo://counter' });
    }
    await alice1.callTool({ name: 'keyed__bump', arguments: {} });
    await eventually(() => (updates.get(alice2) === 1 ? true : undefined), 5_000, 'alice2 update');
    assert.equal(updates.get(alice1), 1);
    // One of alice's sessions leaving its subscription leaves the other's in place.
    await alice1.unsubscribeResource({ uri: 'echo://counter' });
    await alice2.callTool({ name: 'keyed__bump', arguments: {} });
    await eventually(() => (updates.get(alice2) === 2 ? true : undefined), 5_000, 'alice2 again');
    await bob.callTool({ name: 'keyed__bump', arguments: {} });
    await eventually(() => (updates.get(bob) === 1 ? true : undefined), 5_000, 'bob update');
    assert.deepEqual([updates.get(alice1), updates.get(alice2)], [1, 2], 'bob bumped his own');
  });

  test('past limits.maxOwnInstancesPerServer, a new token is refused until one ends', async () => {
    const dave = await connect(DAVE);
    assert.equal(await envOf(dave), 'key-dave-secret');
    const erin = await connect(ERIN);
    assert.match(await envOf(erin), /runs 3 instances of its own, the most it may/);
    // The tokens that have one keep using it.
    assert.equal(await envOf(dave), 'key-dave-secret');
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
