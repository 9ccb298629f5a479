/**
 * Project-scoped servers (README: Projects), driven as users would: two scratch projects
 * under a `projectRoots` folder, and a `share: "project"` echo fixture whose `cwd` is
 * `${projectDir}` and whose label is `${projectName}`, so its `where` and `whoami` tools
 * say which project's process answers.
 * - `mcp-director connect --project DIR` and HTTP clients sending `X-Project-Dir` each reach
 *   their own folder's process; sessions of one project share one process; a project the
 *   config names gives its clients its profile;
 * - a client that declares MCP roots is asked for them, and its first root picks the
 *   project; when its roots change it hears tools/list_changed and moves;
 * - a folder outside `projectRoots` is refused with a clear error (403 on initialize; the
 *   folder `connect` merely runs in is a hint, and its calls say why they have no project);
 * - a project's process stops after `idleStopMs` without a call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  CLI,
  alive,
  eventually,
  fixture,
  rewriteConfig,
  startDaemon,
  type Daemon,
} from '../helpers/daemon.js';
import { connectInProject, textOf } from '../helpers/mcp.js';
import { initializeBody, modernRequest, rawPost, type RawAnswer } from '../helpers/raw-mcp.js';

/** How long a project's process may idle before it stops, in this test. */
const IDLE_STOP_MS = 1500;

interface Where {
  cwd: string;
  pid: number;
}

describe('projects: one instance per project folder', () => {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'mcpd-projects-')));
  const root = join(scratch, 'code');
  const alpha = join(root, 'alpha');
  const beta = join(root, 'beta');
  const outside = join(scratch, 'elsewhere');
  let daemon: Daemon;
  const clients: Client[] = [];
  const config = {
    listen: { port: 0 },
    mcpServers: {
      proj: fixture('echo-server', ['--label', '${projectName}'], {
        share: 'project',
        cwd: '${projectDir}',
        idleStopMs: IDLE_STOP_MS,
      }),
      echo: fixture('echo-server'),
    },
    projectRoots: [root],
    // alpha is named, and its clients that choose no profile get one that sees proj only.
    profiles: { 'alpha-only': { servers: ['proj'] } },
    projects: { 'the-alpha': { dir: alpha, profile: 'alpha-only' } },
  };

  before(async () => {
    for (const dir of [alpha, beta, outside]) mkdirSync(dir, { recursive: true });
    daemon = await startDaemon(config);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await daemon.stop();
  });

  const viaConnect = async (
    args: string[],
    cwd?: string,
    client = new Client({ name: 'projects-connect', version: '1.0.0' }),
  ): Promise<Client> => {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'connect', '--url', daemon.url, ...args],
        stderr: 'pipe',
        ...(cwd !== undefined && { cwd }),
      }),
    );
    clients.push(client);
    return client;
  };
  const viaHttp = async (
    dir: string | undefined,
    client = new Client({ name: 'projects-http', version: '1.0.0' }),
  ): Promise<Client> => {
    clients.push(await connectInProject(client, daemon.url, dir));
    return client;
  };
  const where = async (client: Client): Promise<Where> =>
    JSON.parse(textOf(await client.callTool({ name: 'proj__where', arguments: {} }))) as Where;
  const refusal = async (client: Client): Promise<string> => {
    const result = await client.callTool({ name: 'proj__where', arguments: {} }).then(
      (r) => `no error: ${JSON.stringify(r)}`,
      (e: Error) => e.message,
    );
    return result;
  };

  test('connect --project and the X-Project-Dir header each reach their own folder; a project shares one process', async () => {
    const alphaShim = await viaConnect(['--project', alpha]);
    const betaShim = await viaConnect(['--project', beta]);
    const alphaHttp = await viaHttp(alpha);
    const alphaHttp2 = await viaHttp(join(root, 'alpha', '..', 'alpha')); // another spelling
    const [a1, b1, a2, a3] = await Promise.all([
      where(alphaShim),
      where(betaShim),
      where(alphaHttp),
      where(alphaHttp2),
    ]);
    assert.equal(a1.cwd, alpha);
    assert.equal(b1.cwd, beta);
    assert.deepEqual([a2, a3], [a1, a1], 'every alpha session reaches one process');
    assert.notEqual(a1.pid, b1.pid);
    // ${projectName}: the config's name for alpha, the folder's own for beta.
    const label = async (c: Client): Promise<string> =>
      textOf(await c.callTool({ name: 'proj__whoami', arguments: {} }));
    assert.deepEqual([await label(alphaHttp), await label(betaShim)], ['the-alpha', 'beta']);
    // The config gives alpha a profile: its clients see its servers only; beta's see all.
    const names = async (c: Client): Promise<string[]> =>
      (await c.listTools()).tools.map((t) => t.name.split('__')[0] ?? '');
    assert.deepEqual([...new Set(await names(alphaShim))], ['proj']);
    assert.deepEqual([...new Set(await names(betaShim))].sort(), ['echo', 'proj']);

    // The admin sees each project's instance and where its sessions work: API and CLI.
    const api = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; projects?: Array<{ dir: string; state: string; pid: number }> }>;
    };
    const proj = api.servers.find((s) => s.id === 'proj');
    assert.deepEqual(
      proj?.projects?.map((p) => [p.dir, p.state, p.pid]),
      [
        [alpha, 'ready', a1.pid],
        [beta, 'ready', b1.pid],
      ],
    );
    assert.equal(api.servers.find((s) => s.id === 'echo')?.projects, undefined);
    const listed = (await (await fetch(`${daemon.base}/api/sessions`)).json()) as {
      sessions: Array<{ profile: string; project?: { name: string; dir: string } }>;
    };
    assert.deepEqual(listed.sessions.map((s) => `${s.project?.name ?? '-'} ${s.profile}`).sort(), [
      'beta default',
      'the-alpha alpha-only',
      'the-alpha alpha-only',
      'the-alpha alpha-only',
    ]);
    const table = spawnSync(process.execPath, [CLI, 'servers', '--url', daemon.base], {
      encoding: 'utf8',
      env: { ...process.env, MCP_DIRECTOR_URL: '', MCP_DIRECTOR_TOKEN: '' },
    }).stdout;
    assert.match(table, new RegExp(`proj @ project +ready .*${alpha} \\(pid ${a1.pid}\\)`));
    assert.match(table, new RegExp(`proj @ project +ready .*${beta} \\(pid ${b1.pid}\\)`));
  });

  test('a client with roots is asked for them: its first root picks the project, and it moves when they change', async () => {
    let roots = [{ uri: pathToFileURL(beta).href, name: 'beta' }];
    const client = new Client(
      { name: 'projects-roots', version: '1.0.0' },
      { capabilities: { roots: { listChanged: true } } },
    );
    let asked = 0;
    client.setRequestHandler(ListRootsRequestSchema, () => {
      asked++;
      return { roots };
    });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    await viaHttp(undefined, client);
    assert.equal((await where(client)).cwd, beta);
    assert.equal((await where(client)).cwd, beta);
    assert.equal(asked, 1, 'asked once, not per call');
    // New roots: the client says so, hears that its tools may differ, and moves.
    roots = [
      { uri: pathToFileURL(outside).href, name: 'not allowed' },
      { uri: pathToFileURL(alpha).href, name: 'alpha' },
    ];
    await client.sendRootsListChanged();
    await eventually(() => (listChanged > 0 ? true : undefined), 5000, 'tools/list_changed');
    assert.equal((await where(client)).cwd, alpha);
    assert.equal(asked, 2);
  });

  test("the folder connect runs in comes after the client's roots", async () => {
    const withRoots = (roots: string[]): Client => {
      const client = new Client(
        { name: 'projects-roots-connect', version: '1.0.0' },
        { capabilities: { roots: {} } },
      );
      client.setRequestHandler(ListRootsRequestSchema, () => ({
        roots: roots.map((dir) => ({ uri: pathToFileURL(dir).href })),
      }));
      return client;
    };
    // An allowed root wins over the folder connect runs in.
    const rooted = await viaConnect([], beta, withRoots([alpha]));
    assert.equal((await where(rooted)).cwd, alpha);
    // No allowed root: the folder connect runs in is the project after all.
    const fallback = await viaConnect([], beta, withRoots([outside]));
    assert.equal((await where(fallback)).cwd, beta);
  });

  test('a folder outside projectRoots is refused with a clear error; without a project, calls say how to name one', async () => {
    // Named explicitly over HTTP: the initialize itself is refused.
    const response = await rawPost(daemon.url, initializeBody(), {
      'x-project-dir': encodeURIComponent(outside),
    });
    assert.equal(response.status, 403);
    assert.match(
      response.message?.error?.message ?? '',
      /^Forbidden: project folder ".*elsewhere" is outside the folders projects may be in \("projectRoots": .*code\)$/,
    );
    for (const [dir, why] of [
      [join(root, 'missing'), 'does not exist'],
      ['relative/dir', 'is not absolute'],
    ] as const) {
      const refused = await viaHttp(dir).then(
        () => 'connected',
        (e: Error) => e.message,
      );
      assert.match(refused, new RegExp(`403|${why}`));
    }
    // connect --project with such a folder fails to connect, saying why.
    const shim = await viaConnect(['--project', outside]).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    assert.notEqual(shim, 'connected');
    // connect run in such a folder: a hint only; its session works, its project calls explain.
    const inOutside = await viaConnect([], outside);
    assert.equal(
      textOf(await inOutside.callTool({ name: 'echo__echo', arguments: { text: 'ok' } })),
      'ok',
    );
    assert.match(
      await refusal(inOutside),
      /runs one instance per project \("share": "project"\), and this request has no project \(the folder connect runs in: project folder ".*elsewhere" is outside the folders projects may be in/,
    );
    // connect run inside a project folder picks it by itself.
    const inBeta = await viaConnect([], beta);
    assert.equal((await where(inBeta)).cwd, beta);
    // Plain HTTP, no roots: told the ways to name a project.
    assert.match(
      await refusal(await viaHttp(undefined)),
      /has no project: start `mcp-director connect --project DIR`, send the X-Project-Dir header \(or \?project=DIR on the URL\), or declare the project folder as an MCP root/,
    );
  });

  test('a 2026-07-28 request names its project on each request; a refused folder gets 403', async () => {
    const call = async (headers: Record<string, string>): Promise<RawAnswer> => {
      const request = modernRequest(7, 'tools/call', { name: 'proj__where', arguments: {} });
      return rawPost(daemon.url, request.body, { ...request.headers, ...headers });
    };
    const inBeta = await call({ 'x-project-dir': encodeURIComponent(beta) });
    const result = inBeta.message?.result as { content: Array<{ text: string }> };
    assert.equal((JSON.parse(result.content[0]?.text ?? '{}') as Where).cwd, beta);
    const viaQuery = modernRequest(8, 'tools/call', { name: 'proj__where', arguments: {} });
    const inAlpha = await rawPost(
      `${daemon.url}?project=${encodeURIComponent(alpha)}`,
      viaQuery.body,
      viaQuery.headers,
    );
    const alphaResult = inAlpha.message?.result as { content: Array<{ text: string }> };
    assert.equal((JSON.parse(alphaResult.content[0]?.text ?? '{}') as Where).cwd, alpha);
    const refused = await call({ 'x-project-dir': encodeURIComponent(outside) });
    assert.equal(refused.status, 403);
    assert.match(refused.message?.error?.message ?? '', /^Forbidden: project folder .* is outside/);
  });

  test("a project's process stops after idleStopMs without a call, and starts again on the next", async () => {
    const client = await viaHttp(alpha);
    const before = await where(client);
    // Calls keep it alive: three calls, each within the idle time of the last.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, IDLE_STOP_MS / 2));
      assert.equal((await where(client)).pid, before.pid);
    }
    await eventually(
      () => (alive(before.pid) ? undefined : true),
      IDLE_STOP_MS + 5000,
      `alpha's process ${before.pid} to stop when idle`,
    );
    // Its worker says so a moment after the process is gone: then it is no longer listed.
    await eventually(
      async () => {
        const api = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
          servers: Array<{ id: string; projects?: Array<{ dir: string }> }>;
        };
        const listed = api.servers.find((s) => s.id === 'proj')?.projects?.map((p) => p.dir);
        return listed !== undefined && !listed.includes(alpha) ? true : undefined;
      },
      5000,
      'the ended instance to leave /api/servers',
    );
    const again = await where(client);
    assert.equal(again.cwd, alpha);
    assert.notEqual(again.pid, before.pid);
  });

  test('a call cancelled while its client is asked for roots is never forwarded', async () => {
    const gamma = join(root, 'gamma');
    mkdirSync(gamma);
    const client = new Client(
      { name: 'projects-cancel', version: '1.0.0' },
      { capabilities: { roots: {} } },
    );
    let answerRoots: () => void = () => undefined;
    const asked = new Promise<void>((resolveAsked) => {
      client.setRequestHandler(ListRootsRequestSchema, async () => {
        resolveAsked();
        await new Promise<void>((resolve) => (answerRoots = resolve));
        return { roots: [{ uri: pathToFileURL(gamma).href }] };
      });
    });
    await viaHttp(undefined, client);
    const abort = new AbortController();
    const call = client
      .callTool({ name: 'proj__where', arguments: {} }, undefined, { signal: abort.signal })
      .then(
        () => 'answered',
        (e: Error) => e.message,
      );
    await asked;
    abort.abort('changed my mind');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the cancellation arrives first
    answerRoots();
    assert.match(await call, /changed my mind|abort/i);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const api = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; projects?: Array<{ dir: string }> }>;
    };
    const dirs = api.servers.find((s) => s.id === 'proj')?.projects?.map((p) => p.dir) ?? [];
    assert.ok(!dirs.includes(gamma), `no instance was started for the cancelled call: ${dirs}`);
    // Its project is known now: the next call goes there.
    assert.equal((await where(client)).cwd, gamma);
  });

  test('a reload that narrows projectRoots refuses the next call of a session whose folder left them', async () => {
    const client = await viaHttp(beta);
    assert.equal((await where(client)).cwd, beta);
    await rewriteConfig(daemon, { ...config, projectRoots: [join(scratch, 'elsewhere')] });
    assert.match(
      await refusal(client),
      /has no project \(project folder ".*beta" is outside the folders projects may be in/,
    );
  });
});
