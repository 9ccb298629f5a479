/**
 * The README's quick start on a fresh clone, as a new user runs it: `git clone` this repository
 * (its committed files only) into a scratch folder, then the README's first command,
 * `npm install && npm start`, and a client at the URL it prints.
 *
 * Bounded and without the network: `npm install` gets `--prefer-offline --no-audit --no-fund`,
 * so the ~270 packages come from the npm cache this machine already filled (the registry only
 * when a package is missing), which is the README's command in substance. It is a real install
 * (about 70 s here, half of it the `prepare` build): copying or linking this checkout's
 * node_modules instead would be faster but would no longer show that a clean clone's lock file
 * installs and builds, and npm replaces a symlinked node_modules with a folder of its own anyway.
 * `npm start` gets `-- --port 0` (the README says options after `--` go to `mcp-director serve`)
 * so it cannot collide with a daemon on 8765, and XDG folders in the scratch folder so it reads
 * no config and writes no analytics of the machine's user.
 *
 * The README's second command, `npm test`, cannot run here: it would run this test again,
 * inside itself. Instead the clone's `npm test` must exist and its first step, `npm run build`,
 * must find the build `npm install` made current.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

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

/** The commands of the README's quick start block, without their comments. */
function quickStartCommands(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([^]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

const git = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
const notAClone = git.status === 0 ? false : 'not a git checkout: nothing to clone';

test(
  "a fresh clone: the README's npm install && npm start serves MCP at the URL it prints",
  { skip: notAClone, timeout: 480_000 },
  async (t) => {
    const commands = quickStartCommands();
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
    const [install, start] = commands[0]!.split('&&').map((part) => part.trim());

    const scratch = mkdtempSync(path.join(os.tmpdir(), 'mcpd-first-run-'));
    const clone = path.join(scratch, 'mcp-director');
    const env = userEnv({
      XDG_CONFIG_HOME: path.join(scratch, 'config'),
      XDG_DATA_HOME: path.join(scratch, 'data'),
    });
    const running: { user?: UserProcess } = {};
    t.after(async () => {
      await running.user?.stop(5_000);
      rmSync(scratch, { recursive: true, force: true });
    });

    // The commit under test, also when it is a detached HEAD no branch holds.
    for (const args of [
      ['clone', '--quiet', '--no-checkout', REPO_ROOT, clone],
      ['-C', clone, 'fetch', '--quiet', REPO_ROOT, 'HEAD'],
      ['-C', clone, 'checkout', '--quiet', 'FETCH_HEAD'],
    ]) {
      const step = await runUser('git', args, { cwd: scratch, env, timeoutMs: 60_000 });
      assert.equal(step.code, 0, step.output);
    }

    const command = `${install} --prefer-offline --no-audit --no-fund && ${start} -- --port 0`;
    const user = startUser(command, undefined, { cwd: clone, env });
    running.user = user;
    const began = performance.now();
    await user.waitFor(/> mcp-director@\S+ start\n/, 420_000, 'npm start');
    const installed = performance.now();
    const ready = await user.waitFor(READY_LINE, 60_000, 'the ready line');
    const readyAt = performance.now();
    const startOutput = user.output().slice(user.output().indexOf('> mcp-director@'));
    t.diagnostic(
      `npm install ${((installed - began) / 1000).toFixed(1)} s, then npm start to the ready line ${((readyAt - installed) / 1000).toFixed(1)} s`,
    );
    // npm install built dist/, so npm start does not build again.
    assert.doesNotMatch(startOutput.slice(0, startOutput.indexOf(ready[0])), /building/);
    assert.ok(readyAt - installed < 30_000, `npm start took ${readyAt - installed} ms`);

    const url = ready[1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const contact = await firstContact(url);
    assert.equal(contact.serverName, 'mcp-director');
    for (const tool of ['demo__echo', 'demo__calculate', 'demo__current_time']) {
      assert.ok(contact.tools.includes(tool), `${tool} in ${contact.tools.join(', ')}`);
    }

    const stopped = await user.stop();
    assert.match(stopped.output, /\[serve\] stopped/);
    assert.deepEqual(processesUnder(clone), []);

    // `npm test`: defined in the clone, and its build step finds dist/ current.
    const testScript = await runUser('npm', ['pkg', 'get', 'scripts.test'], {
      cwd: clone,
      env,
      timeoutMs: 30_000,
    });
    assert.equal(testScript.code, 0, testScript.output);
    assert.match(testScript.output, /^".+"$/m, 'the clone defines scripts.test');
    const build = await runUser('npm', ['run', 'build'], { cwd: clone, env, timeoutMs: 60_000 });
    assert.equal(build.code, 0, build.output);
    t.diagnostic(`npm run build on the fresh clone: ${(build.ms / 1000).toFixed(1)} s`);
  },
);
