/**
 * `mcp-director config validate` and `config import` as a user runs them: the built CLI in a
 * child process, with a temporary HOME, real sample files and real config files.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { parse } from 'jsonc-parser';

import { CLI, REPO_ROOT } from '../helpers/daemon.js';
import { CLIENT_CONFIGS, CLIENT_SAMPLES } from '../helpers/client-samples.js';

const FIXTURES = CLIENT_CONFIGS;
const SCHEMA = path.join(REPO_ROOT, 'schema/config.schema.json');
const root = mkdtempSync(path.join(os.tmpdir(), 'mcpd-cli-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

let homes = 0;
/** A fresh HOME, so the default paths point into the temp folder. */
function freshHome(): string {
  const home = path.join(root, `home-${++homes}`);
  mkdirSync(home, { recursive: true });
  return home;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], home: string, env: NodeJS.ProcessEnv = {}): Result {
  // The runner's own config location must not leak in; the test's `env` may set one.
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base['MCP_DIRECTOR_CONFIG'];
  delete base['XDG_CONFIG_HOME'];
  Object.assign(base, { HOME: home }, env);
  const child = spawnSync(process.execPath, [CLI, 'config', ...args], {
    env: base,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

function sample(file: string): string {
  return path.join(FIXTURES, file);
}

function golden(name: string): unknown {
  const text = readFileSync(path.join(FIXTURES, 'expected', `${name}.json`), 'utf8');
  return JSON.parse(text.split('<fixtures>').join(FIXTURES));
}

function readConfig(file: string): Record<string, unknown> {
  return parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

describe('mcp-director config import', () => {
  for (const [name, client, file] of CLIENT_SAMPLES) {
    it(`imports ${client} from ${file} into a new config`, () => {
      const home = freshHome();
      const dest = path.join(home, 'director.json');
      const result = cli(['import', client, '--from', sample(file), '--config', dest], home);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      const config = readConfig(dest);
      assert.deepEqual({ mcpServers: config['mcpServers'] }, golden(name));
      // A copy of the schema beside the config, named relatively (not a path into this install).
      assert.equal(config['$schema'], './mcp-director.schema.json');
      assert.equal(
        readFileSync(path.join(home, 'mcp-director.schema.json'), 'utf8'),
        readFileSync(SCHEMA, 'utf8'),
      );
      assert.match(result.stdout, new RegExp(`\\nWrote ${dest}: \\d+ imported`));
      assert.ok(
        result.stdout.endsWith(`Check it with: mcp-director config validate --config "${dest}"\n`),
      );
    });
  }

  it('reports dropped keys and translated ${input:…} variables, one line each', () => {
    const home = freshHome();
    const dest = path.join(home, 'director.json');
    const vscode = cli(
      ['import', 'vscode', '--from', sample('vscode/shop/.vscode/mcp.json'), '--config', dest],
      home,
    );
    assert.equal(vscode.code, 0);
    const lines = vscode.stdout.split('\n');
    assert.ok(lines.includes('  imported github: http: https://api.githubcopilot.com/mcp/'));
    assert.ok(
      lines.includes(
        '    variable ${input:github-token} became ${GITHUB_TOKEN} (the client asked for "GitHub Personal Access Token"): a daemon cannot prompt, so set GITHUB_TOKEN in its environment',
      ),
    );
    const servers = readConfig(dest)['mcpServers'] as Record<string, { headers?: unknown }>;
    assert.deepEqual(servers['github']?.headers, { Authorization: 'Bearer ${GITHUB_TOKEN}' });
    assert.equal(lines.filter((line) => line.startsWith('    dropped "envFile"')).length, 1);

    const gemini = cli(
      [
        'import',
        'gemini',
        '--from',
        sample('gemini/settings.json'),
        '--config',
        path.join(home, 'g.json'),
      ],
      home,
    );
    assert.equal(gemini.code, 0);
    for (const key of ['trust', 'includeTools', 'excludeTools']) {
      assert.match(gemini.stdout, new RegExp(`\\n {4}dropped "${key}": `), key);
    }
  });

  it('merges into an existing config: comments kept, backup made, conflicts skipped or overwritten', () => {
    const home = freshHome();
    const dest = path.join(home, 'director.jsonc');
    const original =
      '{\n  // my servers\n  "mcpServers": {\n    "filesystem": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"] } // narrower\n  },\n  "listen": { "port": 9000 } // not the default\n}\n';
    writeFileSync(dest, original);
    const from = sample('claude-desktop/claude_desktop_config.json');

    const first = cli(['import', 'claude-desktop', '--from', from, '--config', dest], home);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /\n {2}skipped filesystem: .* already has a different "filesystem"; rerun with --overwrite to replace it\n/,
    );
    const backupLine = /^Backup of the previous file: (.+)$/m.exec(first.stdout);
    assert.ok(backupLine?.[1], first.stdout);
    assert.match(backupLine[1], /director\.jsonc\.bak-\d{8}T\d{6}Z$/);
    assert.equal(readFileSync(backupLine[1], 'utf8'), original);
    const merged = readFileSync(dest, 'utf8');
    assert.match(merged, /^\{\n {2}\/\/ my servers\n/);
    assert.match(merged, /"\/srv"\] \}, \/\/ narrower\n {4}"github": \{/);
    assert.match(merged, /"listen": \{ "port": 9000 \} \/\/ not the default\n\}\n$/);
    const servers = readConfig(dest)['mcpServers'] as Record<string, { args?: string[] }>;
    assert.deepEqual(Object.keys(servers), ['filesystem', 'github', 'Brave-Search', 'sqlite']);
    assert.equal(servers['filesystem']?.args?.at(-1), '/srv');

    const again = cli(
      ['import', 'claude-desktop', '--from', from, '--config', dest, '--overwrite'],
      home,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\n {2}replaced filesystem: stdio: npx\n/);
    assert.match(again.stdout, /\n {2}already present github: /);
    const replaced = readConfig(dest)['mcpServers'] as Record<string, { args?: string[] }>;
    assert.equal(replaced['filesystem']?.args?.at(-1), '/Users/alex/Downloads');
    assert.match(readFileSync(dest, 'utf8'), /\n {4}\}, \/\/ narrower\n/);
    assert.equal(readdirSync(home).filter((f) => f.includes('.bak-')).length, 2);
  });

  it('--dry-run prints what would change and writes nothing', () => {
    const home = freshHome();
    const dest = path.join(home, 'director.json');
    writeFileSync(dest, '{ "mcpServers": {} }\n');
    const result = cli(
      ['import', 'cursor', '--from', sample('cursor/mcp.json'), '--config', dest, '--dry-run'],
      home,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\n {2}would import github: stdio: npx\n/);
    assert.match(result.stdout, /Dry run: .* was not written; it would get: 5 imported/);
    assert.equal(readFileSync(dest, 'utf8'), '{ "mcpServers": {} }\n');
    assert.deepEqual(readdirSync(home), ['director.json']);
  });

  it('uses the default locations of the client file and of the config', () => {
    const home = freshHome();
    const desktop = path.join(home, '.config/Claude/claude_desktop_config.json');
    mkdirSync(path.dirname(desktop), { recursive: true });
    writeFileSync(desktop, readFileSync(sample('claude-desktop/claude_desktop_config.json')));
    const result = cli(['import', 'claude-desktop'], home);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.startsWith(`Claude Desktop: ${desktop}\n`));
    const dest = path.join(home, '.config/mcp-director/config.json');
    assert.deepEqual({ mcpServers: readConfig(dest)['mcpServers'] }, golden('claude-desktop'));
    assert.ok(result.stdout.endsWith('Check it with: mcp-director config validate\n'));
    const validate = cli(['validate'], home);
    assert.equal(validate.stderr, '');
    assert.equal(validate.code, 0);
    assert.match(validate.stdout, new RegExp(`^${dest}: valid \\(4 servers[,)]`));
  });

  it('a missing source file exits 1 with one line naming it and --from', () => {
    const home = freshHome();
    const from = path.join(home, 'nope/mcp.json');
    const explicit = cli(['import', 'cursor', '--from', from], home);
    assert.equal(explicit.code, 1);
    assert.equal(explicit.stdout, '');
    assert.equal(
      explicit.stderr,
      `mcp-director: no file at ${from}: check the path given to --from\n`,
    );
    const byDefault = cli(['import', 'gemini'], home);
    assert.equal(byDefault.code, 1);
    assert.equal(
      byDefault.stderr,
      `mcp-director: no Gemini CLI config at ${home}/.gemini/settings.json; name the file with --from FILE\n`,
    );
    assert.equal(existsSync(path.join(home, '.config')), false);
  });

  it('usage errors exit 2', () => {
    const home = freshHome();
    const result = cli(['import', 'windsurf'], home);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Argument: client, Given: "windsurf", Choices: "claude-desktop"/);
    assert.equal(cli([], home).code, 2);
  });
});

describe('mcp-director config validate', () => {
  it('a valid file: one line with its servers, exit 0', () => {
    const home = freshHome();
    const file = path.join(home, 'ok.json');
    writeFileSync(
      file,
      '{\n  // two servers\n  "mcpServers": { "a": { "command": "x" }, "b": { "url": "https://example.com/mcp" } },\n  "profiles": { "small": { "servers": ["a"] } },\n  "tokens": { "ci": { "token": "0123456789abcdef0123", "profile": "small" } },\n}\n',
    );
    const result = cli(['validate', '--config', file], home);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.match(
      result.stdout,
      new RegExp(`^${file}: valid \\(2 servers, profiles: default, small, 1 token\\)\\n$`),
    );
  });

  it('an invalid file: every problem with file and JSON path on stderr, exit 1', () => {
    const home = freshHome();
    const file = path.join(home, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ mcpServers: { a: { command: 'x', args: [1] } }, workers: 0 }),
    );
    const result = cli(['validate', '--config', file], home);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      [
        `Invalid config ${file} (2 problems):`,
        `  ${file}: mcpServers.a.args[0]: expected a string, found 1`,
        `  ${file}: workers: expected an integer of at least 1, found 0`,
        '',
      ].join('\n'),
    );
  });

  it('follows $MCP_DIRECTOR_CONFIG, and reports unset variables as serve would', () => {
    const home = freshHome();
    const file = path.join(home, 'env.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: { gh: { url: 'https://example.com/mcp', headers: { A: '${TOKEN_X}' } } },
      }),
    );
    const unset = cli(['validate'], home, { MCP_DIRECTOR_CONFIG: file });
    assert.equal(unset.code, 1);
    assert.match(
      unset.stderr,
      new RegExp(`${file}: mcpServers\\.gh\\.headers\\.A: \\$\\{TOKEN_X\\} is not set`),
    );
    const set = cli(['validate'], home, { MCP_DIRECTOR_CONFIG: file, TOKEN_X: 't' });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, new RegExp(`^${file}: valid \\(1 server[,)]`));
  });

  it('no file at the default path: says the demo config would be used, exit 0', () => {
    const home = freshHome();
    const result = cli(['validate'], home);
    assert.equal(result.code, 0);
    assert.equal(
      result.stdout,
      `${home}/.config/mcp-director/config.json: no config file there, so mcp-director serve would use the embedded demo config (one "demo" server); create one with: mcp-director config import <client>\n`,
    );
  });
});

describe('config import of a client already set up for the director', () => {
  it('skips the director entries (connect, its URL) with a line each, and imports the rest', () => {
    const home = freshHome();
    // Claude Desktop as the README sets it up, next to a server to import.
    const desktop = path.join(home, 'claude_desktop_config.json');
    writeFileSync(
      desktop,
      JSON.stringify({
        mcpServers: {
          director: { command: 'mcp-director', args: ['connect', '--profile', 'review'] },
          'director-by-path': {
            command: 'node',
            args: [CLI, 'connect'],
          },
          files: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
          },
        },
      }),
    );
    const cursor = path.join(home, 'cursor-mcp.json');
    writeFileSync(
      cursor,
      JSON.stringify({ mcpServers: { director: { url: 'http://localhost:8765/mcp' } } }),
    );
    const dest = path.join(home, 'director.json');
    const first = cli(['import', 'claude-desktop', '--from', desktop, '--config', dest], home);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.split('\n');
    assert.ok(
      lines.includes(
        '  skipped director: it runs `mcp-director connect`, the bridge to an MCP Director: importing it would make the director a backend of itself (to aggregate another daemon, add its URL as a remote server)',
      ),
      first.stdout,
    );
    assert.ok(
      lines.some((l) => l.startsWith('  skipped director-by-path: it runs `mcp-director connect`')),
    );
    assert.ok(lines.includes('  imported files: stdio: npx'));
    const second = cli(['import', 'cursor', '--from', cursor, '--config', dest], home);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(
      second.stdout.includes(
        "  skipped director: its URL http://localhost:8765/mcp is this MCP Director's own endpoint",
      ),
      second.stdout,
    );
    assert.deepEqual(Object.keys(readConfig(dest)['mcpServers'] as object), ['files']);
  });
});
