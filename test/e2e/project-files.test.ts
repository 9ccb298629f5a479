/**
 * A project's own servers (README: Projects), driven as users would: three scratch projects
 * named in the config, two allowing their `.mcp.json` (`"mcpJson": true`) and one not, each
 * with a `.mcp.json` that defines a server `notes` (the echo fixture, labelled with its
 * `${projectName}`), the third with a server of its own in the config
 * (`projects.<name>.servers`), and SDK clients over HTTP that name their folder in
 * `X-Project-Dir`.
 * - each allowed project's sessions see its `notes__*` tools, and their calls reach that
 *   project's own process; a session elsewhere, or in the project that does not allow its
 *   file, sees none of them;
 * - editing a file adds its new server for that project only: its sessions hear
 *   tools/list_changed, the other project's list stays as it was;
 * - a project whose file appears (or goes) gets (or loses) its servers, and hears it;
 * - a client that names its folder only in its MCP roots is asked for them at its first list
 *   (or call), and sees its project's servers;
 * - a broken entry costs only itself, and the daemon's log names the file and the problem;
 * - a name a config server has already stays the config server's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { eventually, fixture, startDaemon, type Daemon } from '../helpers/daemon.js';
import { connectInProject, textOf } from '../helpers/mcp.js';

describe("projects: a project's own .mcp.json", () => {
  const root = join(realpathSync(mkdtempSync(join(tmpdir(), 'mcpd-project-files-'))), 'code');
  const dirs = {
    alpha: join(root, 'alpha'),
    beta: join(root, 'beta'),
    gamma: join(root, 'gamma'),
    delta: join(root, 'delta'),
  };
  const clients: Client[] = [];
  let daemon: Daemon;

  /** A `.mcp.json` as Claude Code writes one: echo fixtures named by key. */
  const writeProjectFile = (dir: string, servers: Record<string, unknown>): void =>
    writeFileSync(join(dir, '.mcp.json'), JSON.stringify({ mcpServers: servers }, null, 2));
  const notes = (): Record<string, unknown> =>
    fixture('echo-server', ['--label', '${projectName}']);

  before(async () => {
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
    // delta has no file yet.
    for (const dir of [dirs.alpha, dirs.beta, dirs.gamma])
      writeProjectFile(dir, { notes: notes() });
    daemon = await startDaemon({
      mcpServers: {
        echo: fixture('echo-server', ['--label', 'shared']),
        // A per-project server: its first call asks a client without a folder for its roots.
        here: fixture('echo-server', [], { share: 'project', cwd: '${projectDir}' }),
      },
      projectRoots: [root],
      projects: {
        alpha: { dir: dirs.alpha, mcpJson: true },
        beta: { dir: dirs.beta, mcpJson: true },
        // gamma ignores its file, and has a server of its own in the config instead.
        gamma: {
          dir: dirs.gamma,
          servers: { tasks: fixture('echo-server', ['--label', 'inline-${projectName}']) },
        },
        delta: { dir: dirs.delta, mcpJson: true },
      },
    });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await daemon.stop();
  });

  const connect = async (dir: string | undefined): Promise<Client> => {
    const client = new Client({ name: 'project-files', version: '1.0.0' });
    clients.push(await connectInProject(client, daemon.url, dir));
    return client;
  };
  const toolNames = async (client: Client): Promise<string[]> =>
    (await client.listTools()).tools.map((tool) => tool.name);
  const whoami = async (client: Client, tool = 'notes__whoami'): Promise<string> =>
    textOf(await client.callTool({ name: tool, arguments: {} }));

  test("each allowed project sees its own file's servers; nobody else does", async () => {
    const alpha = await connect(dirs.alpha);
    const beta = await connect(dirs.beta);
    const gamma = await connect(dirs.gamma);
    const nowhere = await connect(undefined);
    // The project's servers start when it first lists (lazy), so the list may need a moment.
    await eventually(async () =>
      (await toolNames(alpha)).includes('notes__whoami') ? true : undefined,
    );
    assert.equal(await whoami(alpha), 'alpha');
    assert.equal(await whoami(beta), 'beta');
    assert.equal(await whoami(alpha, 'echo__whoami'), 'shared');
    for (const client of [gamma, nowhere]) {
      const names = await toolNames(client);
      assert.ok(names.includes('echo__whoami'), names.join(', '));
      assert.ok(!names.some((name) => name.startsWith('notes__')), names.join(', '));
      await assert.rejects(whoami(client), /Unknown tool: notes__whoami/);
    }
    // The server the config gives gamma is gamma's only.
    assert.equal(await whoami(gamma, 'tasks__whoami'), 'inline-gamma');
    for (const client of [alpha, nowhere])
      await assert.rejects(whoami(client, 'tasks__whoami'), /Unknown tool: tasks__whoami/);
    // Two processes, one per project, both the project's own.
    const servers = (await (await fetch(`${daemon.base}/api/servers`)).json()) as {
      servers: Array<{ id: string; pid?: number }>;
    };
    const ids = servers.servers.map((s) => s.id).sort();
    assert.deepEqual(ids, ['echo', 'here', 'notes@alpha', 'notes@beta', 'tasks@gamma']);
  });

  test('editing a file adds its server for that project only, which hears list_changed', async () => {
    const alpha = await connect(dirs.alpha);
    const beta = await connect(dirs.beta);
    const betaBefore = await toolNames(beta);
    let alphaHeard = 0;
    let betaHeard = 0;
    alpha.setNotificationHandler(ToolListChangedNotificationSchema, () => void alphaHeard++);
    beta.setNotificationHandler(ToolListChangedNotificationSchema, () => void betaHeard++);
    writeProjectFile(dirs.alpha, {
      notes: notes(),
      more: fixture('echo-server', ['--label', 'more-of-${projectName}']),
    });
    await eventually(
      async () => ((await toolNames(alpha)).includes('more__whoami') ? true : undefined),
      15_000,
      "alpha's new server",
    );
    assert.equal(await whoami(alpha, 'more__whoami'), 'more-of-alpha');
    await eventually(() => (alphaHeard > 0 ? true : undefined), 5000, 'list_changed in alpha');
    assert.deepEqual(await toolNames(beta), betaBefore);
    assert.equal(betaHeard, 0, 'beta heard list_changed for a change in alpha');
  });

  test("a project's first file brings it servers, and its removal takes them; its sessions hear both", async () => {
    const delta = await connect(dirs.delta);
    let heard = 0;
    delta.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
    assert.ok(!(await toolNames(delta)).includes('notes__whoami'));
    writeProjectFile(dirs.delta, { notes: notes() });
    await eventually(() => (heard > 0 ? true : undefined), 15_000, 'list_changed for the new file');
    await eventually(async () =>
      (await toolNames(delta)).includes('notes__whoami') ? true : undefined,
    );
    assert.equal(await whoami(delta), 'delta');
    const before = heard;
    rmSync(join(dirs.delta, '.mcp.json'));
    await eventually(
      () => (heard > before ? true : undefined),
      15_000,
      'list_changed for the removal',
    );
    assert.ok(!(await toolNames(delta)).includes('notes__whoami'));
  });

  test("a project learnt from the client's roots brings its servers: asked at the first list, or call", async () => {
    const rooted = async (): Promise<{
      client: Client;
      asked: () => number;
      heard: () => number;
    }> => {
      const client = new Client(
        { name: 'project-files-roots', version: '1.0.0' },
        { capabilities: { roots: {} } },
      );
      let asked = 0;
      let heard = 0;
      client.setRequestHandler(ListRootsRequestSchema, () => {
        asked++;
        return { roots: [{ uri: pathToFileURL(dirs.beta).href }] };
      });
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
      clients.push(await connectInProject(client, daemon.url, undefined));
      return { client, asked: () => asked, heard: () => heard };
    };
    // Its first list asks for the roots, so it already has beta's servers.
    const lister = await rooted();
    assert.ok((await toolNames(lister.client)).includes('notes__whoami'));
    assert.equal(await whoami(lister.client), 'beta');
    assert.equal(lister.asked(), 1, 'asked once');
    // One that calls a per-project server before it lists is asked then, and told to list.
    const caller = await rooted();
    const where = JSON.parse(
      textOf(await caller.client.callTool({ name: 'here__where', arguments: {} })),
    ) as { cwd: string };
    assert.equal(where.cwd, dirs.beta);
    await eventually(() => (caller.heard() > 0 ? true : undefined), 5000, 'list_changed for beta');
    assert.ok((await toolNames(caller.client)).includes('notes__whoami'));
    assert.equal(caller.asked(), 1, 'asked once');
  });

  test('a broken entry costs only itself, and the log names the file; config names win', async () => {
    writeProjectFile(dirs.beta, {
      notes: notes(),
      'no spaces': notes(),
      wrong: { command: 42 },
      // The config's `echo` has these names already: the config's server keeps them.
      echo: fixture('echo-server', ['--label', 'impostor']),
    });
    const file = join(dirs.beta, '.mcp.json');
    await eventually(
      () => (daemon.stderr().includes(`${file}: mcpServers.wrong.command`) ? true : undefined),
      15_000,
      'the problem in the log',
    );
    assert.match(daemon.stderr(), /mcpServers\["no spaces"\]: a server name of 1-32/);
    const beta = await connect(dirs.beta);
    await eventually(async () =>
      (await toolNames(beta)).includes('notes__whoami') ? true : undefined,
    );
    assert.equal(await whoami(beta), 'beta');
    assert.equal(await whoami(beta, 'echo__whoami'), 'shared');
  });
});
