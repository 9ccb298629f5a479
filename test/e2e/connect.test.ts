/**
 * `mcp-director connect`, the stdio ⇄ HTTP shim, launched the way Claude Desktop launches a
 * server: the SDK's StdioClientTransport spawns it, and it bridges to a real daemon (or, for
 * the wire details a daemon does not exercise, to a small node:http server in this file).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { CLI, alive, eventually, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { startHttpFixture } from '../helpers/http-fixture.js';
import { textOf } from '../helpers/mcp.js';

const CONFIG = { mcpServers: { echo: fixture('echo-server') } };

/** Rejects when `promise` takes longer than `ms`: no wait in this file is unbounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An SDK client that can be sampled and elicited, talking to `connect` over stdio. */
async function connectedClient(
  args: string[],
): Promise<{ client: Client; transport: StdioClientTransport; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'connect', ...args],
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client(
    { name: 'desktop', version: '1.0.0' },
    { capabilities: { sampling: {}, elicitation: {} } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, (request) => {
    const content = request.params.messages[0]?.content;
    const prompt = content && 'text' in content ? content.text : '';
    return { role: 'assistant', content: { type: 'text', text: `sampled: ${prompt}` }, model: 't' };
  });
  client.setRequestHandler(ElicitRequestSchema, () => ({
    action: 'accept',
    content: { name: 'ada' },
  }));
  await within(client.connect(transport), 10_000, 'initialize through connect');
  return { client, transport, stderr: () => stderr };
}

interface SessionView {
  id: string;
  client?: { name?: string };
  stream: boolean;
}

async function sessionsOf(daemon: Daemon): Promise<SessionView[]> {
  const response = await fetch(`${daemon.base}/api/sessions`);
  return ((await response.json()) as { sessions: SessionView[] }).sessions;
}

/** `connect` spawned by hand, for exit codes and exact stdout lines. */
interface RawConnect {
  child: ChildProcessWithoutNullStreams;
  send(message: object | string): void;
  /** The next stdout line (parsed) that `match` accepts, seen or still to come. */
  line(match: (message: Record<string, unknown>) => boolean, what: string): Promise<unknown>;
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  exit: Promise<number | null>;
}

function spawnConnect(args: string[]): RawConnect {
  const child = spawn(process.execPath, [CLI, 'connect', ...args], { stdio: 'pipe' });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const waiter of waiters) waiter();
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    lines,
    send: (message) =>
      child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`),
    line: (match, what) =>
      within(
        new Promise((resolve) => {
          const check = (): void => {
            const found = lines.find(match);
            if (found === undefined) return;
            waiters.delete(check);
            resolve(found);
          };
          waiters.add(check);
          check();
        }),
        10_000,
        `${what} on connect's stdout`,
      ),
    stderr: () => stderr,
    exit,
  };
}

/** Forwards 127.0.0.1:<port> to a daemon; `down` refuses connections until `up` again. */
class TcpFront {
  port = 0;
  #server: NetServer | undefined;
  readonly #sockets = new Set<Socket>();

  async up(target: number): Promise<void> {
    const server = createNetServer((client) => {
      const upstream = connectTcp(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.#sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw-client', version: '1.0.0' },
  },
};

describe('connect, against a running daemon', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon(CONFIG);
  });
  after(async () => {
    await daemon?.stop();
  });

  test('an SDK client lists, calls, gets progress and answers sampling and elicitation; a daemon restart is invisible', async () => {
    // The client reaches the daemon through a TCP front on a port of its own, so that "the
    // same URL" survives the restart: a restarted uWS daemon cannot bind its old port while
    // the connections it closed sit in TIME_WAIT (its listener lacks SO_REUSEADDR).
    const front = new TcpFront();
    await front.up(daemon.port);
    const url = `http://127.0.0.1:${front.port}/mcp`;
    const { client, transport, stderr } = await connectedClient(['--url', url]);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('echo__echo'), `tools: ${names.join(', ')}`);
      const echoed = await client.callTool({ name: 'echo__echo', arguments: { text: 'hi' } });
      assert.equal(textOf(echoed), 'hi');

      // The SDK runs notification handlers a microtask late, so progress that arrives in the
      // same stdout chunk as the answer (the last step) can miss onprogress: the steps
      // before it are spaced out, and those must all arrive, in order.
      const progress: Progress[] = [];
      const done = await client.callTool(
        { name: 'echo__progress', arguments: { steps: 3, delayMs: 100 } },
        undefined,
        { onprogress: (p) => void progress.push(p) },
      );
      assert.equal(textOf(done), 'done 3');
      assert.deepEqual(
        progress.slice(0, 2).map((p) => [p.progress, p.total, p.message]),
        [
          [1, 3, 'step 1'],
          [2, 3, 'step 2'],
        ],
      );

      // A long call does not hold up a ping sent after it.
      const slow = client.callTool({ name: 'echo__slow', arguments: { ms: 1500 } });
      const started = Date.now();
      await client.ping();
      assert.ok(Date.now() - started < 1000, 'the ping came back while the slow call ran');
      assert.equal(textOf(await slow), 'slept 1500');

      const sampled = await client.callTool({ name: 'echo__sample', arguments: { prompt: 'yo' } });
      assert.equal(textOf(sampled), 'sampled: yo');
      const elicited = await client.callTool({ name: 'echo__elicit', arguments: { message: '?' } });
      assert.deepEqual(JSON.parse(textOf(elicited)), {
        action: 'accept',
        content: { name: 'ada' },
      });
      const first = await eventually(
        async () =>
          (await sessionsOf(daemon)).find((s) => s.client?.name === 'desktop' && s.stream),
        5000,
        'the session with its GET stream open',
      );

      // The daemon goes away: calls fail at once with an error, and stderr says so once.
      await front.down();
      await daemon.stop();
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        await assert.rejects(
          within(
            client.callTool({ name: 'echo__echo', arguments: { text: 'x' } }),
            5000,
            'a call while down',
          ),
          (error: Error & { code?: number }) =>
            error.code === -32000 &&
            /MCP Director is not running at .* \(connection refused\); start it with: mcp-director serve/.test(
              error.message,
            ),
        );
        assert.ok(Date.now() - started < 2000, 'the error came quickly');
      }
      await eventually(() => (/not running/.test(stderr()) ? true : undefined), 5000, 'stderr');
      const lines = stderr().trim().split('\n');
      assert.equal(lines.length, 1, `one stderr line per outage, got:\n${stderr()}`);
      assert.equal(
        lines[0],
        `mcp-director connect: MCP Director is not running at ${url} (connection refused); start it with: mcp-director serve`,
      );

      // Back at the same URL (a new process, so the old session id is unknown there): the
      // next call goes through on a renewed session, with the client's capabilities.
      daemon = await startDaemon(CONFIG);
      await front.up(daemon.port);
      const again = await within(
        client.callTool({ name: 'echo__echo', arguments: { text: 'back' } }),
        10_000,
        'a call after the restart',
      );
      assert.equal(textOf(again), 'back');
      const resampled = await client.callTool({
        name: 'echo__sample',
        arguments: { prompt: 'again' },
      });
      assert.equal(textOf(resampled), 'sampled: again');
      const renewed = await eventually(
        async () =>
          (await sessionsOf(daemon)).find((s) => s.client?.name === 'desktop' && s.stream),
        10_000,
        'the renewed session with its GET stream open',
      );
      assert.notEqual(renewed.id, first.id);
      assert.equal(stderr().match(/not running/g)?.length, 1, stderr());

      const pid = transport.pid;
      await client.close();
      assert.ok(pid !== null);
      await eventually(() => (alive(pid) ? undefined : true), 5000, 'connect to exit');
      await eventually(
        async () =>
          (await sessionsOf(daemon)).some((s) => s.id === renewed.id) ? undefined : true,
        5000,
        'the session to be deleted',
      );
    } finally {
      await client.close();
      await front.down();
    }
  });

  test('raw lines: a parse error keeps it going, answers come back out of order, EOF deletes the session and exits 0', async () => {
    const raw = spawnConnect(['--url', daemon.url]);
    try {
      raw.send('{not json');
      const parseError = (await raw.line((m) => m['id'] === null, 'the parse error')) as {
        error: { code: number };
      };
      assert.equal(parseError.error.code, -32700);
      raw.send(INITIALIZE);
      const init = (await raw.line((m) => m['id'] === 1, 'the initialize result')) as {
        result: { protocolVersion: string };
      };
      assert.equal(init.result.protocolVersion, '2025-06-18');
      raw.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const session = await eventually(
        async () => (await sessionsOf(daemon)).find((s) => s.client?.name === 'raw-client'),
        5000,
        'the raw session',
      );
      raw.send({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo__slow', arguments: { ms: 800 } },
      });
      raw.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
      await raw.line((m) => m['id'] === 2, 'the slow answer');
      const order = raw.lines.map((m) => m['id']).filter((id) => id === 2 || id === 3);
      assert.deepEqual(order, [3, 2], 'the ping was answered while the slow call ran');

      raw.child.stdin.end();
      assert.equal(await within(raw.exit, 5000, 'connect to exit after EOF'), 0);
      assert.ok(!(await sessionsOf(daemon)).some((s) => s.id === session.id), 'session deleted');
      assert.equal(raw.stderr(), '');
    } finally {
      raw.child.kill();
    }
  });
});

describe('connect, with profiles and tokens', () => {
  const TOKEN = 'token-for-profile-b-0123456789';
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: { b: { servers: ['beta'] } },
      tokens: { bob: { token: TOKEN, profile: 'b' } },
      requireToken: true,
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('--profile and --token reach the profile; a wrong token or profile is a clear error', async () => {
    const { client, stderr } = await connectedClient([
      '--url',
      daemon.url,
      '--profile',
      'b',
      '--token',
      TOKEN,
    ]);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.length > 0 && names.every((n) => n.startsWith('beta__')), names.join());
      const who = await client.callTool({ name: 'beta__whoami', arguments: {} });
      assert.equal(textOf(who), 'beta');
    } finally {
      await client.close();
    }
    assert.equal(stderr(), '');

    const wrong = spawnConnect(['--url', daemon.url, '--profile', 'b', '--token', 'not-it']);
    const missing = spawnConnect(['--url', daemon.url, '--profile', 'nope', '--token', TOKEN]);
    try {
      wrong.send(INITIALIZE);
      missing.send(INITIALIZE);
      const refused = (await wrong.line((m) => m['id'] === 1, 'the refusal')) as {
        error: { code: number; message: string };
      };
      assert.match(refused.error.message, /^Unauthorized/); // the daemon's own 401 body
      await eventually(() => (/--token/.test(wrong.stderr()) ? true : undefined), 5000, '401');
      assert.doesNotMatch(wrong.stderr(), /not-it/);
      const unknown = (await missing.line((m) => m['id'] === 1, 'the 404')) as {
        error: { code: number; message: string };
      };
      assert.match(unknown.error.message, /Unknown profile 'nope'/);
      assert.equal(missing.stderr(), '');
      wrong.child.stdin.end();
      missing.child.stdin.end();
      assert.equal(await within(wrong.exit, 5000, 'exit'), 0);
      assert.equal(await within(missing.exit, 5000, 'exit'), 0);
    } finally {
      wrong.child.kill();
      missing.child.kill();
    }
  });
});

describe('connect, for a 2026-07-28 (stateless) client', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        everything: fixture('dual-era-server', [], { prefix: '' }),
        echo: fixture('echo-server'),
      },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test('no session; the request headers are filled in (Mcp-Param-* learnt from tools/list); cancelling closes the stream', async () => {
    const raw = spawnConnect(['--url', daemon.url]);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const request = (id: number, method: string, params: object = {}): object => ({
      jsonrpc: '2.0',
      id,
      method,
      params: { ...params, _meta: meta },
    });
    const answer = (id: number): Promise<unknown> =>
      raw.line((m) => m['id'] === id, `answer ${id}`);
    try {
      raw.send(request(1, 'server/discover'));
      const discover = (await answer(1)) as { result: { supportedVersions: string[] } };
      assert.ok(discover.result.supportedVersions.includes('2026-07-28'));

      // Before the shim has seen the tool's x-mcp-header annotation it cannot mirror it.
      const call = { name: 'test_x_mcp_header', arguments: { region: 'eu-west' } };
      raw.send(request(2, 'tools/call', call));
      const refused = (await answer(2)) as { error: { code: number } };
      assert.equal(refused.error.code, -32020);
      raw.send(request(3, 'tools/list'));
      await answer(3);
      raw.send(request(4, 'tools/call', call));
      const called = (await answer(4)) as { result: unknown };
      assert.equal(textOf(called.result), 'region=eu-west');

      raw.send(request(5, 'tools/call', { name: 'echo__slow', arguments: { ms: 5000 } }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      raw.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } });
      let next = 100;
      const stats = await eventually(
        async () => {
          const id = next++;
          raw.send(request(id, 'tools/call', { name: 'echo__stats', arguments: {} }));
          const reply = (await answer(id)) as { result: unknown };
          const parsed = JSON.parse(textOf(reply.result)) as { cancelled: number };
          return parsed.cancelled === 1 ? parsed : undefined;
        },
        5000,
        'the backend to see the cancellation',
      );
      assert.equal(stats.cancelled, 1);
      assert.ok(!raw.lines.some((m) => m['id'] === 5), 'a cancelled request gets no answer');
      assert.deepEqual(await sessionsOf(daemon), [], 'no session was opened');

      raw.child.stdin.end();
      assert.equal(await within(raw.exit, 5000, 'connect to exit after EOF'), 0);
      assert.equal(raw.stderr(), '');
    } finally {
      raw.child.kill();
    }
  });
});

/** What the fake daemon saw: one entry per HTTP request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/** A node:http server on 127.0.0.1:0 answering through `handle`; open responses end on stop. */
async function fakeDaemon(
  handle: (seen: Seen, response: ServerResponse) => void,
): Promise<{ url: string; seen: Seen[]; stop(): Promise<void> }> {
  const seen: Seen[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      const entry: Seen = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      };
      seen.push(entry);
      open.add(response);
      response.on('close', () => open.delete(response));
      handle(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    stop: async () => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function json(response: ServerResponse, status: number, body: unknown, headers = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function sse(response: ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
}

describe('connect, wire details against a small HTTP server', () => {
  test('profile path, bearer token, session headers; GET and POST streams resume with Last-Event-ID; EOF sends DELETE', async () => {
    const log = (message: string): object => ({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: { level: 'info', data: message },
    });
    let callId: unknown;
    const fake = await fakeDaemon((seen, response) => {
      const body = seen.body;
      if (seen.method === 'POST' && body?.['method'] === 'initialize') {
        return json(
          response,
          200,
          {
            jsonrpc: '2.0',
            id: body['id'],
            result: {
              protocolVersion: '2025-06-18',
              capabilities: { tools: {}, logging: {} },
              serverInfo: { name: 'fake', version: '1' },
            },
          },
          { 'Mcp-Session-Id': 'session-1' },
        );
      }
      if (seen.method === 'POST' && body?.['method'] === 'tools/call') {
        callId = body['id'];
        // One event with an id, then the connection drops before the answer.
        sse(response);
        response.write(`id: post-1\ndata: ${JSON.stringify(log('working'))}\n\n`);
        return void setTimeout(() => response.destroy(), 50);
      }
      if (seen.method === 'POST') return void response.writeHead(202).end();
      if (seen.method === 'GET' && seen.headers['last-event-id'] === 'post-1') {
        sse(response);
        const answer = {
          jsonrpc: '2.0',
          id: callId,
          result: { content: [{ type: 'text', text: 'resumed' }] },
        };
        return void response.end(`id: post-2\ndata: ${JSON.stringify(answer)}\n\n`);
      }
      if (seen.method === 'GET') {
        const gets = fake.seen.filter(
          (s) => s.method === 'GET' && s.headers['last-event-id'] !== 'post-1',
        );
        sse(response);
        // The first standing stream carries one event with an id, then drops; the second
        // (which must resume after it) stays open.
        if (gets.length === 1) {
          response.write(`retry: 50\nid: get-1\ndata: ${JSON.stringify(log('pushed'))}\n\n`);
          setTimeout(() => response.destroy(), 50);
        }
        return;
      }
      if (seen.method === 'DELETE') return void response.writeHead(200).end();
      response.writeHead(405).end();
    });
    const { client, stderr } = await connectedClient([
      '--url',
      fake.url,
      '--profile',
      'work',
      '--token',
      'sekrit-token',
    ]);
    try {
      const pushed: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        pushed.push(n.params.data);
      });
      await eventually(
        () => (fake.seen.filter((s) => s.method === 'GET').length >= 2 ? true : undefined),
        5000,
        'the GET stream to be reopened',
      );
      const gets = fake.seen.filter((s) => s.method === 'GET');
      assert.equal(gets[0]?.headers['last-event-id'], undefined);
      assert.equal(gets[1]?.headers['last-event-id'], 'get-1', 'the reconnect resumes');
      assert.equal(gets[1]?.headers['mcp-session-id'], 'session-1');

      const result = await within(
        client.callTool({ name: 'anything', arguments: {} }),
        5000,
        'the call answered on the resumed stream',
      );
      assert.equal(textOf(result), 'resumed');
      await eventually(() => (pushed.length >= 2 ? true : undefined), 5000, 'both log lines');
      assert.deepEqual(pushed.sort(), ['pushed', 'working']);
      const resume = fake.seen.find((s) => s.headers['last-event-id'] === 'post-1');
      assert.equal(resume?.method, 'GET');

      for (const request of fake.seen) {
        assert.equal(request.url, '/mcp/work', `${request.method} goes to the profile's path`);
        assert.equal(request.headers['authorization'], 'Bearer sekrit-token');
      }
      const posts = fake.seen.filter((s) => s.method === 'POST');
      assert.equal(posts[0]?.headers['mcp-session-id'], undefined, 'initialize has no session');
      assert.equal(posts[0]?.headers['accept'], 'application/json, text/event-stream');
      assert.equal(posts[0]?.headers['content-type'], 'application/json');
      for (const post of posts.slice(1)) {
        assert.equal(post.headers['mcp-session-id'], 'session-1');
        assert.equal(post.headers['mcp-protocol-version'], '2025-06-18');
      }
    } finally {
      await client.close();
    }
    const deleted = await eventually(
      () => fake.seen.find((s) => s.method === 'DELETE'),
      5000,
      'the DELETE at EOF',
    );
    assert.equal(deleted.headers['mcp-session-id'], 'session-1');
    assert.doesNotMatch(stderr(), /sekrit/);
    await fake.stop();
  });

  test('resumes a POST stream the official SDK server closes mid-call (SSE polling, Last-Event-ID)', async () => {
    const server = await startHttpFixture('dual-era-server.js', ['--http', '--resumable']);
    const { client } = await connectedClient(['--url', server.url]);
    try {
      const result = await within(
        client.callTool({ name: 'test_reconnection', arguments: {} }),
        10_000,
        'the resumed call',
      );
      assert.equal(textOf(result), 'Reconnection test completed');
    } finally {
      await client.close();
      await server.stop();
    }
  });

  test('HTTP errors become JSON-RPC errors for the request; 401 also names --token on stderr', async () => {
    const fake = await fakeDaemon((seen, response) => {
      const method = seen.body?.['method'];
      if (seen.headers['authorization'] !== 'Bearer right') {
        return json(response, 401, { error: 'a token is required' });
      }
      if (method === 'ping') {
        return json(response, 500, {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32603, message: 'kaput' },
        });
      }
      if (method === 'tools/list') return void response.writeHead(503, 'Busy').end('later');
      response.writeHead(202).end();
    });
    const wrong = spawnConnect(['--url', fake.url, '--token', 'wrong-token']);
    const right = spawnConnect(['--url', fake.url, '--token', 'right']);
    try {
      wrong.send(INITIALIZE);
      const refused = (await wrong.line((m) => m['id'] === 1, 'the 401 answer')) as {
        error: { code: number; message: string };
      };
      assert.equal(refused.error.code, -32000);
      assert.match(refused.error.message, /HTTP 401/);
      await eventually(() => (/--token/.test(wrong.stderr()) ? true : undefined), 5000, '401 line');
      assert.equal(wrong.stderr().trim().split('\n').length, 1);
      assert.doesNotMatch(wrong.stderr(), /wrong-token/);

      right.send({ jsonrpc: '2.0', id: 'p', method: 'ping' });
      right.send({ jsonrpc: '2.0', id: 'l', method: 'tools/list' });
      right.send({ jsonrpc: '2.0', method: 'notifications/whatever' });
      assert.deepEqual(await right.line((m) => m['id'] === 'p', 'the 500 answer'), {
        jsonrpc: '2.0',
        id: 'p',
        error: { code: -32603, message: 'kaput' },
      });
      const busy = (await right.line((m) => m['id'] === 'l', 'the 503 answer')) as {
        error: { code: number; message: string };
      };
      assert.equal(busy.error.code, -32000);
      assert.match(busy.error.message, /answered HTTP 503 Busy/);

      wrong.child.stdin.end();
      right.child.stdin.end();
      assert.equal(await within(wrong.exit, 5000, 'exit'), 0);
      assert.equal(await within(right.exit, 5000, 'exit'), 0);
      assert.equal(right.lines.length, 2, 'the notification got no answer');
    } finally {
      wrong.child.kill();
      right.child.kill();
      await fake.stop();
    }
  });
});
