/**
 * Several daemons behind a real HAProxy and a real nginx (Debian's, installed by .ci/run),
 * configured by examples/haproxy.cfg as it ships and examples/nginx.conf with its addresses
 * replaced (README: Running several daemons): three nodes share a
 * cluster key; session ids name their node and the balancer keeps each session there, so
 * 100 SDK sessions spread over the nodes all work; `/readyz` is the health check. When a
 * node is SIGKILLed, its sessions get 404 at once and `mcp-director connect` starts a new
 * one on another node without its client noticing; the other nodes' sessions see nothing.
 * With a real redis-server beside them, a token's rate limit is counted for all three, and
 * the nodes find each other there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CLI,
  REPO_ROOT,
  eventually,
  fixture,
  freePort,
  startDaemon,
  type Daemon,
} from '../helpers/daemon.js';
import {
  connectWithToken,
  modernClient as newModernClient,
  textOf,
  type InputRequiredWire,
} from '../helpers/mcp.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import type { Client as ModernClient, CallToolRequest } from '@modelcontextprotocol/client';

const NODES = ['n1', 'n2', 'n3'];
const KEY = 'cluster-key-0123456789abcdef0123456789abcdef';
const SESSIONS = 100;
const METERED = 'metered-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef01';
const asAdmin = { headers: { Authorization: `Bearer ${ADMIN}` } };
/** The metered token's limit: a burst of 6, then one request a second, for the whole fleet. */
const METERED_LIMIT = { perSecond: 1, burst: 6 };
const TOKENS = {
  profiles: { metered: {}, ops: {} },
  tokens: {
    metered: { token: METERED, profile: 'metered', rateLimit: METERED_LIMIT },
    // Its own profile: a token of the default profile would close it to the others.
    admin: { token: ADMIN, admin: true, profile: 'ops' },
  },
};

describe('three nodes behind HAProxy and nginx', () => {
  const daemons = new Map<string, Daemon>();
  const ports = new Map<string, number>();
  let haproxy: ChildProcess;
  let nginx: ChildProcess;
  let redis: RedisServer;
  let lb = '';
  let nginxLb = '';
  let nginxPrefix = '';
  const clients: Array<{ close(): Promise<void> }> = [];
  /** The first test's sessions through HAProxy, with their ids. */
  const lbSessions: Array<{ client: Client; sessionId: string }> = [];

  const modernClient = async (url: string, autoFulfill: boolean): Promise<ModernClient> => {
    const client = await newModernClient(url, autoFulfill);
    clients.push(client);
    return client;
  };
  const echo = (client: Client, text: string): Promise<string> =>
    client.callTool({ name: 'echo__echo', arguments: { text } }).then(textOf);
  const sessionsOn = async (node: string): Promise<Array<{ client?: { name?: string } }>> => {
    const daemon = daemons.get(node) as Daemon;
    const body = (await (await fetch(`${daemon.base}/api/sessions`, asAdmin)).json()) as {
      sessions: Array<{ client?: { name?: string } }>;
    };
    return body.sessions;
  };

  /** nginx with examples/nginx.conf, its addresses replaced by the nodes' (and its own). */
  const startNginx = async (nodePorts: Map<string, number>): Promise<ChildProcess> => {
    const prefix = mkdtempSync(join(tmpdir(), 'mcpd-nginx-'));
    nginxPrefix = prefix;
    const port = await freePort();
    nginxLb = `http://127.0.0.1:${port}`;
    let site = readFileSync(join(REPO_ROOT, 'examples/nginx.conf'), 'utf8').replace(
      'listen 8700;',
      `listen 127.0.0.1:${port};`,
    );
    NODES.forEach((node, i) => {
      site = site.replaceAll(`10.0.0.${i + 1}:8765`, `127.0.0.1:${nodePorts.get(node)}`);
    });
    writeFileSync(join(prefix, 'mcp.conf'), site);
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((kind) => `${kind}_temp_path ${join(prefix, kind)};`)
      .join(' ');
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `pid ${join(prefix, 'nginx.pid')}; error_log ${join(prefix, 'error.log')};\n` +
        `events {}\nhttp { access_log off; ${temp} include ${join(prefix, 'mcp.conf')}; }\n`,
    );
    const child = spawn(
      'nginx',
      ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await eventually(
      async () =>
        (await fetch(`${nginxLb}/readyz`).catch(() => undefined))?.ok ? true : undefined,
      10_000,
      `nginx to serve on ${nginxLb}: ${stderr}`,
    );
    return child;
  };

  /**
   * SIGTERM, not SIGKILL: nginx's master stops its worker first; a killed master leaves
   * the worker running, orphaned, after the test.
   */
  const stopNginx = async (): Promise<void> => {
    if (nginx !== undefined && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    if (nginxPrefix !== '') rmSync(nginxPrefix, { recursive: true, force: true });
  };

  before(async () => {
    // Every node knows where the others are, to pass them the retries they hold.
    for (const node of NODES) ports.set(node, await freePort());
    const nodes = Object.fromEntries(NODES.map((n) => [n, `http://127.0.0.1:${ports.get(n)}`]));
    redis = await startRedis();
    for (const node of NODES) {
      daemons.set(
        node,
        await startDaemon({
          mcpServers: { echo: fixture('echo-server') },
          listen: { host: '127.0.0.1', port: ports.get(node) },
          // n2 is told no other node's address: it finds them in Redis, where each announces its own.
          cluster: {
            node,
            key: KEY,
            url: nodes[node],
            redis: redis.url,
            ...(node === 'n2' ? {} : { nodes }),
          },
          ...TOKENS,
        }),
      );
    }
    const port = await freePort();
    lb = `http://127.0.0.1:${port}`;
    const env = {
      ...process.env,
      MCPD_LB: `127.0.0.1:${port}`,
      ...Object.fromEntries(
        NODES.map((node) => [`MCPD_${node.toUpperCase()}`, `127.0.0.1:${daemons.get(node)?.port}`]),
      ),
    };
    haproxy = spawn('haproxy', ['-db', '-f', join(REPO_ROOT, 'examples/haproxy.cfg')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    haproxy.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await eventually(
      async () => ((await fetch(`${lb}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      10_000,
      `HAProxy to serve on ${lb}: ${stderr}`,
    );
    nginx = await startNginx(ports);
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    haproxy?.kill('SIGKILL');
    await stopNginx();
    await Promise.all([...daemons.values()].map((daemon) => daemon.stop()));
    await redis?.stop();
  });

  test('session ids name their node; 100 sessions spread over the nodes all work', async () => {
    const opened = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const client = new Client({ name: `lb-${i}`, version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(`${lb}/mcp`));
        await client.connect(transport);
        clients.push(client);
        return { client, transport, i };
      }),
    );
    const perNode = new Map<string, number>();
    for (const { client, transport } of opened) {
      lbSessions.push({ client, sessionId: transport.sessionId ?? '' });
      const node = (transport.sessionId ?? '').split('.')[0] ?? '';
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
      assert.match(transport.sessionId ?? '', /^n[123]\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{16}$/);
    }
    assert.deepEqual([...perNode.keys()].sort(), NODES, JSON.stringify([...perNode]));
    // Every request of a session reaches its node (another node would answer 404).
    const echoed = await Promise.all(
      opened.map(async ({ client, i }) => [
        await echo(client, `a${i}`),
        await echo(client, `b${i}`),
      ]),
    );
    assert.deepEqual(
      echoed,
      opened.map(({ i }) => [`a${i}`, `b${i}`]),
    );
    for (const node of NODES) {
      const held = (await sessionsOn(node)).filter((s) => s.client?.name?.startsWith('lb-'));
      assert.equal(held.length, perNode.get(node), `sessions held by ${node}`);
    }
    // Each node's metrics say which node they are, so a Prometheus over all of them can sum.
    const metrics = await (await fetch(`${daemons.get('n2')?.base}/metrics`, asAdmin)).text();
    assert.match(metrics, /^mcp_director_sessions\{.*node="n2".*\} \d+$/m);
  });

  test('through nginx too: sessions stay on their node, stateless round trips complete', async () => {
    const opened = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const client = new Client({ name: `nginx-${i}`, version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(`${nginxLb}/mcp`));
        await client.connect(transport);
        clients.push(client);
        return { client, transport, i };
      }),
    );
    const nodes = new Set(opened.map(({ transport }) => transport.sessionId?.split('.')[0]));
    assert.deepEqual([...nodes].sort(), NODES);
    for (const { client, i } of opened) assert.equal(await echo(client, `n${i}`), `n${i}`);
    const modern = await modernClient(`${nginxLb}/mcp`, true);
    for (let i = 0; i < 4; i++) {
      const done = await modern.callTool({ name: 'echo__elicit', arguments: { message: `${i}?` } });
      assert.deepEqual(JSON.parse(textOf(done)), { action: 'accept', content: { name: 'grace' } });
    }
  });

  test('the older HTTP+SSE transport stays on its node too, through either balancer', async () => {
    for (const base of [lb, nginxLb]) {
      const opened = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const client = new Client({ name: `sse-${i}`, version: '1.0.0' });
          await client.connect(new SSEClientTransport(new URL(`${base}/sse`)));
          clients.push(client);
          return client;
        }),
      );
      const echoed = await Promise.all(opened.map((client, i) => echo(client, `sse ${i}`)));
      assert.deepEqual(
        echoed,
        opened.map((_, i) => `sse ${i}`),
      );
    }
    const held = await Promise.all(
      NODES.map(
        async (node) =>
          (await sessionsOn(node)).filter((s) => s.client?.name?.startsWith('sse-')).length,
      ),
    );
    assert.ok(
      held.filter((count) => count > 0).length >= 2,
      `SSE sessions per node: ${held.join(', ')}`,
    );
  });

  test("a node's session id sent to another node gets 404 at once, naming the owner", async () => {
    const client = new Client({ name: 'direct', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${daemons.get('n1')?.url}`));
    await client.connect(transport);
    clients.push(client);
    const response = await fetch(`${daemons.get('n2')?.url}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': transport.sessionId ?? '',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(response.status, 404);
    assert.match(await response.text(), /it is node 'n1''s/);
    // A made-up id naming a node is just unknown.
    const forged = await fetch(`${daemons.get('n2')?.url}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': 'n1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(forged.status, 404);
    assert.match(await forged.text(), /it ended or never existed/);
  });

  test('a 2026-07-28 retry that lands on another node is passed to the node holding the call', async () => {
    const first = await modernClient(`${daemons.get('n1')?.url}`, false);
    const args = { message: 'Who are you?' };
    const asked = (await first.callTool(
      { name: 'echo__elicit', arguments: args },
      { allowInputRequired: true },
    )) as InputRequiredWire;
    assert.equal(asked.resultType, 'input_required');
    const [key] = Object.keys(asked.inputRequests ?? {});
    const answer = { [key as string]: { action: 'accept', content: { name: 'grace' } } };
    const retried = await (
      await modernClient(`${daemons.get('n2')?.url}`, false)
    ).callTool({
      name: 'echo__elicit',
      arguments: args,
      inputResponses: answer,
      requestState: asked.requestState,
    } as CallToolRequest['params']);
    assert.deepEqual(JSON.parse(textOf(retried)), { action: 'accept', content: { name: 'grace' } });
    // Through the balancer, round-robin: every round trip completes, wherever it lands.
    const viaLb = await modernClient(`${lb}/mcp`, true);
    for (let i = 0; i < 6; i++) {
      const done = await viaLb.callTool({ name: 'echo__elicit', arguments: { message: `${i}?` } });
      assert.deepEqual(JSON.parse(textOf(done)), { action: 'accept', content: { name: 'grace' } });
    }
  });

  test("a token's rate limit holds across the nodes: they count it in one Redis", async () => {
    // Sessions of the one token through the balancer, until every node holds one.
    const onNode = new Map<string, Client>();
    for (let i = 0; i < 12 && onNode.size < NODES.length; i++) {
      const client = await connectWithToken({ base: lb }, METERED, { name: `metered-${i}` });
      clients.push(client);
      const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId ?? '';
      const node = sessionId.split('.')[0] ?? '';
      if (!onNode.has(node)) onNode.set(node, client);
    }
    assert.deepEqual([...onNode.keys()].sort(), NODES);
    // Ten calls on each node at once: alone, each node would pass its own burst of 6 (18).
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      [...onNode.values()].flatMap((client) =>
        Array.from({ length: 10 }, (_, i) => echo(client, `m${i}`)),
      ),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const passed = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [o.reason as { code: number; message: string }] : [],
    );
    // The burst, plus what refills while the calls run, and not one more.
    const most = METERED_LIMIT.burst + Math.floor(elapsedS * METERED_LIMIT.perSecond);
    assert.ok(
      passed >= METERED_LIMIT.burst && passed <= most,
      `${passed} calls passed in ${elapsedS} s; expected ${METERED_LIMIT.burst}..${most}`,
    );
    assert.equal(refused.length, 30 - passed);
    for (const { code, message } of refused) {
      assert.equal(code, 429, message);
      assert.match(message, /"RATE_LIMITED".*"token":"metered"/);
    }
  });

  /** The nodes a node's /api/health lists, once they are `expected`. */
  const fleetOf = (node: string, expected: string[], timeoutMs: number): Promise<unknown> =>
    eventually(
      async () => {
        const response = await fetch(`${daemons.get(node)?.base}/api/health`, asAdmin);
        const { cluster } = (await response.json()) as {
          cluster: { node: string; nodes: Record<string, string>; redis: string };
        };
        return Object.keys(cluster.nodes).sort().join() === expected.join() ? cluster : undefined;
      },
      timeoutMs,
      `${node} to list the nodes ${expected.join()}`,
    );

  test('the nodes find each other in Redis: n2 knows the others without cluster.nodes', async () => {
    const cluster = await fleetOf('n2', NODES, 5000);
    assert.deepEqual(cluster, {
      node: 'n2',
      nodes: Object.fromEntries(NODES.map((n) => [n, `http://127.0.0.1:${ports.get(n)}`])),
      redis: 'answering',
    });
  });

  test('a SIGKILLed node costs its sessions one re-initialize, through connect; others see nothing', async () => {
    // One `connect` per node (round-robin), each found by its client name.
    const shims = await Promise.all(
      NODES.map(async (_, i) => {
        const transport = new StdioClientTransport({
          command: process.execPath,
          args: [CLI, 'connect', '--url', `${lb}/mcp`],
          stderr: 'pipe',
        });
        const client = new Client({ name: `shim-${i}`, version: '1.0.0' });
        await client.connect(transport);
        clients.push(client);
        assert.equal(await echo(client, 'before'), 'before');
        return client;
      }),
    );
    const where = new Map<string, string>(); // shim name → node
    for (const node of NODES) {
      for (const session of await sessionsOn(node)) {
        const name = session.client?.name ?? '';
        if (name.startsWith('shim-')) where.set(name, node);
      }
    }
    const victim = where.get('shim-0') as string;
    assert.ok(NODES.includes(victim), JSON.stringify([...where]));
    const bystanders = shims.filter((_, i) => where.get(`shim-${i}`) !== victim);
    const sessionsBefore = new Map(
      await Promise.all(
        NODES.filter((n) => n !== victim).map(
          async (node) => [node, (await sessionsOn(node)).length] as const,
        ),
      ),
    );

    (daemons.get(victim) as Daemon).process.kill('SIGKILL');
    await (daemons.get(victim) as Daemon).stop();
    daemons.delete(victim);

    // nginx sends a dead node's sessions to a live node, which answers 404 (not a 502).
    const orphaned = await fetch(`${nginxLb}/mcp`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Session-Id': `${victim}.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(orphaned.status, 404);
    // The shim renews its session on a live node; its client sees only the answer.
    assert.equal(await echo(shims[0] as Client, 'after'), 'after');
    for (const [i, client] of bystanders.entries()) {
      assert.equal(await echo(client, `still ${i}`), `still ${i}`);
    }
    // The renewed session is one more on a live node; no other session was touched.
    let total = 0;
    for (const node of NODES.filter((n) => n !== victim)) {
      const now = (await sessionsOn(node)).length;
      assert.ok(now >= (sessionsBefore.get(node) ?? 0), `${node} lost sessions`);
      total += now - (sessionsBefore.get(node) ?? 0);
    }
    assert.equal(total, 1, 'exactly one new session: the renewed one');
  });

  test('SIGTERM: /readyz says 503 while the node still serves, then it closes; nothing fails', async () => {
    const last = [...daemons.keys()].at(-1) as string;
    const daemon = daemons.get(last) as Daemon;
    const own = lbSessions.find((s) => s.sessionId.startsWith(`${last}.`));
    assert.ok(own !== undefined);
    const exited = new Promise<number | null>((resolve) => daemon.process.once('exit', resolve));
    daemon.process.kill('SIGTERM');
    await eventually(async () => {
      const response = await fetch(`${daemon.base}/readyz`);
      return response.status === 503 ? await response.json() : undefined;
    }, 1_000).then((body) => assert.deepEqual(body, { status: 'draining' }));
    // Still serving during the notice: its own sessions, and whatever the balancer sends.
    assert.equal(await echo(own.client, 'during notice'), 'during notice');
    const modern = await modernClient(`${lb}/mcp`, true);
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 3_000) {
      const done = await modern.callTool({ name: 'echo__echo', arguments: { text: `${calls}` } });
      assert.equal(textOf(done), `${calls}`);
      calls++;
    }
    assert.equal(await exited, 0);
    daemons.delete(last);
    assert.ok(calls > 10, `${calls} calls through the balancer while the node left`);
  });

  test('a new node finds the live ones alone; the stopped and the killed have left the registry', async () => {
    // The stopped node removed itself; the killed one went after 3 missed heartbeats of 2 s.
    const port = await freePort();
    daemons.set(
      'n4',
      await startDaemon({
        mcpServers: { echo: fixture('echo-server') },
        listen: { host: '127.0.0.1', port },
        cluster: { node: 'n4', key: KEY, url: `http://127.0.0.1:${port}`, redis: redis.url },
        ...TOKENS,
      }),
    );
    await fleetOf('n4', [...daemons.keys()].sort(), 10_000);
  });
});
