/**
 * The `$schema` that `config import` writes outlives the installation that wrote it: the config
 * names a copy of the schema beside it (`./mcp-director.schema.json`, which editors resolve
 * against the file's folder), never a path into the installation. Driven as a user would: the
 * built CLI run from an installation in a scratch folder, which is then deleted (moved, or
 * reinstalled under another prefix), and from another installation for the next import.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { parse } from 'jsonc-parser';

import { CLIENT_CONFIGS } from '../helpers/client-samples.js';
import { CLI, REPO_ROOT } from '../helpers/daemon.js';

const SHIPPED = readFileSync(path.join(REPO_ROOT, 'schema/config.schema.json'), 'utf8');
const root = mkdtempSync(path.join(os.tmpdir(), 'mcpd-config-schema-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of what the package installs (the compiled CLI, the schema), in a folder of its own. */
function installCopy(name: string): string {
  const dir = path.join(root, name);
  cpSync(path.join(REPO_ROOT, 'dist/src'), path.join(dir, 'dist/src'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'schema'), path.join(dir, 'schema'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return path.join(dir, 'dist/src/cli/main.js');
}

function cli(main: string, args: string[], home: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env['MCP_DIRECTOR_CONFIG'];
  delete env['XDG_CONFIG_HOME'];
  const child = spawnSync(process.execPath, [main, ...args], {
    cwd: home,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** What an editor opens for the file's `$schema`: a value starting with `.` is relative to it. */
function schemaAsEditorsResolveIt(config: string): string {
  const value = (parse(readFileSync(config, 'utf8')) as { $schema?: unknown }).$schema;
  assert.equal(typeof value, 'string');
  assert.ok((value as string).startsWith('.'), `$schema ${String(value)} is not relative`);
  return path.resolve(path.dirname(config), value as string);
}

describe('config import: $schema survives the installation moving', () => {
  it('names a copy beside the config, which stays valid after the installation is gone', () => {
    const home = path.join(root, 'home-moved');
    mkdirSync(home);
    const config = path.join(home, '.config/mcp-director/config.json');
    const first = installCopy('install-old');
    const from = path.join(CLIENT_CONFIGS, 'claude-desktop/claude_desktop_config.json');
    const imported = cli(first, ['config', 'import', 'claude-desktop', '--from', from], home);
    assert.equal(imported.code, 0, imported.stderr);
    const copy = path.join(path.dirname(config), 'mcp-director.schema.json');
    assert.match(imported.stdout, new RegExp(`\\nWrote ${copy}: the JSON Schema`));

    rmSync(path.join(root, 'install-old'), { recursive: true });
    assert.ok(!readFileSync(config, 'utf8').includes(path.join(root, 'install-old')));
    const resolved = schemaAsEditorsResolveIt(config);
    assert.equal(resolved, copy);
    assert.equal(readFileSync(resolved, 'utf8'), SHIPPED);
    const validate = cli(CLI, ['config', 'validate'], home);
    assert.equal(validate.code, 0, validate.stderr);
  });

  it('an import after an upgrade brings the copy up to date; a dry run writes none', () => {
    const home = path.join(root, 'home-upgraded');
    mkdirSync(home);
    const config = path.join(home, 'director.json');
    const copy = path.join(home, 'mcp-director.schema.json');
    const cursor = path.join(CLIENT_CONFIGS, 'cursor/mcp.json');
    const dry = cli(
      CLI,
      ['config', 'import', 'cursor', '--from', cursor, '--config', config, '--dry-run'],
      home,
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(readdirSync(home), []);

    assert.equal(
      cli(CLI, ['config', 'import', 'cursor', '--from', cursor, '--config', config], home).code,
      0,
    );
    // What an older version would have copied: the next import that writes replaces it.
    writeFileSync(copy, '{ "type": "object" }\n');
    const gemini = path.join(CLIENT_CONFIGS, 'gemini/settings.json');
    const again = cli(
      installCopy('install-new'),
      ['config', 'import', 'gemini', '--from', gemini, '--config', config],
      home,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported/);
    assert.equal(schemaAsEditorsResolveIt(config), copy);
    assert.equal(readFileSync(copy, 'utf8'), SHIPPED);
    assert.ok(existsSync(config));
  });
});
