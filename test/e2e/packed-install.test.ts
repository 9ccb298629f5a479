/**
 * The package as npm ships it: `npm pack`, then `npm install -g` of the tarball into a scratch
 * prefix (its dependencies from the npm cache this machine already filled, the registry only
 * for what is missing), then `mcp-director` from that prefix's bin folder, run from another
 * folder: `--version`, and `serve`, whose URL must answer MCP with the bundled demo server's
 * tools, the demo server and the native uWebSockets.js build both loaded from the installed
 * package, the dashboard served from the package's build, and which must stop cleanly on SIGTERM.
 *
 * `npm pack --ignore-scripts` packs the dist/ the test run built: its `prepare` would rebuild
 * in this checkout while other test files read it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import {
  firstContact,
  processesUnder,
  READY_LINE,
  runUser,
  startUser,
  userEnv,
  type UserProcess,
} from '../helpers/user-shell.js';

const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
const HAS_PROC = existsSync('/proc/self/maps');

test(
  'the packed tarball installs globally and its mcp-director serves from any folder',
  { timeout: 360_000 },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'mcpd-packed-'));
    const prefix = path.join(scratch, 'prefix');
    const env = userEnv({ XDG_CONFIG_HOME: path.join(scratch, 'config') });
    const running: { user?: UserProcess } = {};
    t.after(async () => {
      await running.user?.stop(5_000);
      rmSync(scratch, { recursive: true, force: true });
    });

    const packed = await runUser(
      'npm',
      ['pack', '--ignore-scripts', '--pack-destination', scratch],
      { cwd: REPO_ROOT, env, timeoutMs: 60_000 },
    );
    assert.equal(packed.code, 0, packed.output);
    const tarball = readdirSync(scratch).find((name) => name.endsWith('.tgz'));
    assert.equal(tarball, `mcp-director-${version}.tgz`, packed.output);

    const installed = await runUser(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(scratch, tarball),
      ],
      { cwd: scratch, env, timeoutMs: 240_000 },
    );
    assert.equal(installed.code, 0, installed.output);
    t.diagnostic(`npm install -g of the tarball: ${(installed.ms / 1000).toFixed(1)} s`);
    const bin = path.join(prefix, 'bin', 'mcp-director');
    const packageDir = realpathSync(path.join(prefix, 'lib', 'node_modules', 'mcp-director'));

    const versionRun = await runUser(bin, ['--version'], {
      cwd: os.tmpdir(),
      env,
      timeoutMs: 30_000,
    });
    assert.equal(versionRun.code, 0, versionRun.output);
    assert.equal(versionRun.output.trim(), version);

    const user = startUser(
      bin,
      ['serve', '--no-stdio', '--port', '0', '--data-dir', path.join(scratch, 'data')],
      { cwd: os.tmpdir(), env },
    );
    running.user = user;
    const ready = await user.waitFor(READY_LINE, 60_000, 'the ready line');
    assert.match(user.output(), /uWebSockets\.js native build /);
    const url = ready[1]!;
    const contact = await firstContact(url);
    assert.equal(contact.serverName, 'mcp-director');
    for (const tool of ['demo__echo', 'demo__calculate', 'demo__word_count']) {
      assert.ok(contact.tools.includes(tool), `${tool} in ${contact.tools.join(', ')}`);
    }

    // The dashboard ships built in the package and is served from it.
    assert.ok(existsSync(path.join(packageDir, 'dist/dashboard/index.html')));
    const dashboard = await fetch(new URL('/', url));
    assert.equal(dashboard.status, 200);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await dashboard.text())?.[1];
    assert.ok(script, 'the dashboard page names its script');
    assert.equal((await fetch(new URL(script, url))).status, 200);

    if (HAS_PROC) {
      // The demo server is the installed package's, run by this same Node.
      const servers = (await (await fetch(new URL('/api/servers', url))).json()) as {
        servers: { id: string; pid?: number }[];
      };
      const demoPid = servers.servers.find((s) => s.id === 'demo')?.pid;
      assert.ok(demoPid !== undefined, JSON.stringify(servers));
      const demoArgs = readFileSync(`/proc/${demoPid}/cmdline`, 'utf8').split('\0');
      assert.equal(demoArgs[1], path.join(packageDir, 'dist/src/demo/demo-server.js'));
      // The uWS addon mapped into the daemon is a native one from the installed package.
      const maps = readFileSync(`/proc/${user.child.pid}/maps`, 'utf8');
      const addons = [...new Set(maps.match(/\/\S+\/uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/gm))];
      assert.equal(addons.length, 1, maps);
      assert.ok(addons[0]!.startsWith(packageDir + path.sep), addons[0]);
      // The installed command runs with the daemon's Node options (its shebang passes them).
      const daemonArgs = readFileSync(`/proc/${user.child.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of NODE_FLAGS) assert.ok(daemonArgs.includes(flag), daemonArgs.join(' '));
    }

    const stopped = await user.stop();
    assert.equal(stopped.code, 0, stopped.output);
    assert.match(stopped.output, /\[serve\] stopped/);
    assert.deepEqual(processesUnder(scratch), []);
  },
);
