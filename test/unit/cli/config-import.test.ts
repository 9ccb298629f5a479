/**
 * `config import` in process, on real files in temp folders: each client's sample against
 * its golden (test/fixtures/client-configs/expected), ids, default paths, variable
 * translation, comment-preserving edits, merge decisions, backups and refusals.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { parse } from 'jsonc-parser';

import { CLIENTS } from '../../../src/cli/config-import/clients.js';
import { assignIds, sanitizeId } from '../../../src/cli/config-import/ids.js';
import { insertProperty, replaceValue } from '../../../src/cli/config-import/jsonc-edit.js';
import type { ImportIo, ImportOptions } from '../../../src/cli/config-import/run-import.js';
import {
  runImport,
  SCHEMA_COPY,
  SCHEMA_REFERENCE,
  shippedSchemaPath,
} from '../../../src/cli/config-import/run-import.js';
import type { ClientName, SourceServer } from '../../../src/cli/config-import/types.js';
import { translateVariables } from '../../../src/cli/config-import/variables.js';
import { CLIENT_CONFIGS, CLIENT_SAMPLES } from '../../helpers/client-samples.js';

const FIXTURES = CLIENT_CONFIGS;
const NOW = new Date('2026-11-21T10:15:00.123Z');
const root = mkdtempSync(path.join(os.tmpdir(), 'mcpd-import-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
function freshDir(): string {
  const dir = path.join(root, String(++folders));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The golden for a sample, with the fixtures folder filled in. */
function golden(name: string): Record<string, unknown> {
  const text = readFileSync(path.join(FIXTURES, 'expected', `${name}.json`), 'utf8');
  return JSON.parse(text.split('<fixtures>').join(FIXTURES)) as Record<string, unknown>;
}

interface Run {
  code: number;
  out: string[];
  err: string[];
}

function run(
  options: Partial<ImportOptions> & { client: ClientName },
  env: NodeJS.ProcessEnv = {},
  cwd = root,
): Run {
  const out: string[] = [];
  const err: string[] = [];
  const io: ImportIo = {
    env: { HOME: path.join(root, 'no-home'), ...env },
    platform: 'linux',
    cwd,
    now: () => NOW,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  };
  const code = runImport({ dryRun: false, overwrite: false, ...options }, io);
  return { code, out, err };
}

function readJsonc(file: string): Record<string, unknown> {
  return parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

describe('each client sample maps to its golden', () => {
  for (const [name, client, file] of CLIENT_SAMPLES) {
    it(`${name}: ${file}`, () => {
      const dest = path.join(freshDir(), 'config.json');
      const result = run({ client, from: path.join(FIXTURES, file), config: dest });
      assert.deepEqual(result.err, []);
      assert.equal(result.code, 0);
      const written = readJsonc(dest);
      assert.equal(written['$schema'], SCHEMA_REFERENCE);
      assert.deepEqual({ mcpServers: written['mcpServers'] }, golden(name));
    });
  }

  it('the new file points at a copy of the shipped schema beside it and is private (it may hold tokens)', () => {
    const dest = path.join(freshDir(), 'nested', 'config.json');
    const from = path.join(FIXTURES, 'claude-desktop/claude_desktop_config.json');
    assert.equal(run({ client: 'claude-desktop', from, config: dest }).code, 0);
    assert.equal(
      readFileSync(path.join(path.dirname(dest), SCHEMA_COPY), 'utf8'),
      readFileSync(shippedSchemaPath(), 'utf8'),
    );
    assert.equal(statSync(dest).mode & 0o777, 0o600);
  });
});

describe('report lines', () => {
  it('names every dropped key with what to do instead, and translated inputs', () => {
    const dest = path.join(freshDir(), 'config.json');
    const vscode = run({
      client: 'vscode',
      from: path.join(FIXTURES, 'vscode/shop/.vscode/mcp.json'),
      config: dest,
    });
    const text = vscode.out.join('\n');
    assert.match(
      text,
      /\n {4}dropped "envFile" \("\$\{workspaceFolder\}\/\.env"\): the director does not read env files .*set these variables in the daemon's environment or copy them into "env"/,
    );
    assert.match(text, /\n {4}dropped "dev": VS Code's watch\/debug mode/);
    assert.match(
      text,
      /variable \$\{input:github-token\} became \$\{GITHUB_TOKEN\} \(the client asked for "GitHub Personal Access Token"\): a daemon cannot prompt, so set GITHUB_TOKEN/,
    );
    assert.match(text, /warning: \$\{PERPLEXITY_KEY\} \(used by perplexity\) is not set here/);

    const gemini = run({
      client: 'gemini',
      from: path.join(FIXTURES, 'gemini/settings.json'),
      config: path.join(freshDir(), 'config.json'),
    });
    const lines = gemini.out.filter((line) => line.trim().startsWith('dropped'));
    assert.deepEqual(
      lines.map((line) => /dropped ("\w+")/.exec(line)?.[1]),
      ['"trust"', '"excludeTools"', '"includeTools"', '"trust"'],
    );
    assert.ok(
      gemini.out.includes(
        '    renamed "node.server" to node-server: ids are 1 to 32 of A-Z a-z 0-9 _ - without "__"',
      ),
    );
    assert.match(
      gemini.out.at(-2)!,
      /: 4 imported, 0 replaced, 0 already present, 0 skipped; 4 keys dropped\.$/,
    );
  });

  it('skips WebSocket servers with the reason and imports the rest', () => {
    const result = run({
      client: 'cursor',
      from: path.join(FIXTURES, 'cursor/mcp.json'),
      config: path.join(freshDir(), 'config.json'),
    });
    assert.ok(
      result.out.includes(
        '  skipped realtime: WebSocket servers are not supported by the director',
      ),
    );
    assert.match(result.out.join('\n'), /5 imported, 0 replaced, 0 already present, 1 skipped/);
  });

  it('warns only about variables this environment lacks', () => {
    const from = path.join(FIXTURES, 'claude-code/shop/.mcp.json');
    const unset = run({ client: 'claude-code', from, config: path.join(freshDir(), 'a.json') });
    assert.deepEqual(
      unset.out.filter((line) => line.startsWith('warning:')),
      [
        "warning: ${DATABASE_URL} (used by shop-db) is not set here: set it in the daemon's environment before it starts",
        "warning: ${STRIPE_SECRET_KEY} (used by stripe) is not set here: set it in the daemon's environment before it starts",
      ],
    );
    const set = run(
      { client: 'claude-code', from, config: path.join(freshDir(), 'b.json') },
      { DATABASE_URL: 'postgres://x', STRIPE_SECRET_KEY: 'sk' },
    );
    assert.deepEqual(
      set.out.filter((line) => line.startsWith('warning:')),
      [],
    );
  });

  it('never reads an envFile: its secret does not reach the config', () => {
    const home = freshDir();
    const envFile = path.join(home, '.config/supabase/mcp.env');
    mkdirSync(path.dirname(envFile), { recursive: true });
    writeFileSync(envFile, 'SUPABASE_ACCESS_TOKEN=sbp_secret_value_123\n');
    const dest = path.join(home, 'config.json');
    const result = run(
      { client: 'cursor', from: path.join(FIXTURES, 'cursor/mcp.json'), config: dest },
      { HOME: home },
    );
    assert.equal(result.code, 0);
    assert.doesNotMatch(readFileSync(dest, 'utf8'), /sbp_secret|SUPABASE_ACCESS_TOKEN/);
    assert.doesNotMatch(result.out.join('\n'), /sbp_secret/);
  });

  it('skips an entry the director would reject, with the problem, and imports the others', () => {
    const dir = freshDir();
    const from = path.join(dir, 'claude_desktop_config.json');
    const mcpServers = { bad: { command: 'x', args: ['-p', 8080] }, good: { command: 'y' } };
    writeFileSync(from, JSON.stringify({ mcpServers }));
    const dest = path.join(dir, 'config.json');
    const result = run({ client: 'claude-desktop', from, config: dest });
    assert.equal(result.code, 0);
    assert.ok(
      result.out.includes(
        '  skipped bad: not a valid director entry: args[1]: expected a string, found 8080',
      ),
    );
    assert.deepEqual(readJsonc(dest)['mcpServers'], { good: { command: 'y' } });
  });
});

describe('merging into an existing config', () => {
  const from = path.join(FIXTURES, 'claude-code/.claude.json');
  const original = [
    '{',
    '  // hand-written: keep this comment',
    '  "mcpServers": {',
    '    "sentry": { "type": "http", "url": "https://mcp.sentry.dev/mcp" }, // same as Claude Code',
    '    "github": { "command": "github-mcp-server", "args": ["stdio"] } // mine, different',
    '  },',
    '  "workers": 2 /* two shards */',
    '}',
    '',
  ].join('\n');

  function existing(): string {
    const dest = path.join(freshDir(), 'config.json');
    writeFileSync(dest, original);
    return dest;
  }

  it('keeps comments, backs up the original, skips conflicts and identical entries', () => {
    const dest = existing();
    const result = run({ client: 'claude-code', from, config: dest });
    assert.equal(result.code, 0);
    const backup = `${dest}.bak-20261121T101500Z`;
    assert.ok(result.out.includes(`Backup of the previous file: ${backup}`));
    assert.equal(readFileSync(backup, 'utf8'), original);
    const text = readFileSync(dest, 'utf8');
    assert.ok(text.startsWith(original.split('"github"')[0]!), text);
    assert.match(
      text,
      /"github": \{ "command": "github-mcp-server", "args": \["stdio"\] \}, \/\/ mine, different\n {4}"context7": \{/,
    );
    assert.match(text, /"workers": 2 \/\* two shards \*\/\n\}\n$/);
    assert.ok(result.out.includes(`  already present sentry: ${dest} has the same entry`));
    assert.ok(
      result.out.includes(
        `  skipped github: ${dest} already has a different "github"; rerun with --overwrite to replace it`,
      ),
    );
    const servers = readJsonc(dest)['mcpServers'] as Record<string, unknown>;
    assert.deepEqual(servers['github'], { command: 'github-mcp-server', args: ['stdio'] });
    assert.deepEqual(Object.keys(servers), [
      'sentry',
      'github',
      ...Object.keys(golden('claude-code')['mcpServers'] as object).filter(
        (id) => id !== 'sentry' && id !== 'github',
      ),
    ]);
  });

  it('--overwrite replaces a different entry in place, its line comment kept', () => {
    const dest = existing();
    const result = run({ client: 'claude-code', from, config: dest, overwrite: true });
    assert.equal(result.code, 0);
    assert.ok(result.out.some((line) => line.startsWith('  replaced github: http: ')));
    const text = readFileSync(dest, 'utf8');
    assert.match(text, /"github": \{\n {6}"type": "http",[^]*?\n {4}\}, \/\/ mine, different\n/);
    const servers = readJsonc(dest)['mcpServers'] as Record<string, unknown>;
    assert.deepEqual(
      servers['github'],
      (golden('claude-code')['mcpServers'] as Record<string, unknown>)['github'],
    );
  });

  it('a second import finds everything present and writes nothing', () => {
    const dest = path.join(freshDir(), 'config.json');
    assert.equal(run({ client: 'claude-code', from, config: dest }).code, 0);
    const before = readFileSync(dest, 'utf8');
    const again = run({ client: 'claude-code', from, config: dest });
    assert.equal(again.code, 0);
    assert.equal(readFileSync(dest, 'utf8'), before);
    // The first import made the file and the schema copy it names; the second adds nothing.
    assert.deepEqual(readdirSync(path.dirname(dest)).sort(), ['config.json', SCHEMA_COPY]);
    assert.match(
      again.out.at(-1)!,
      /is unchanged: 0 imported, 0 replaced, 7 already present, 1 skipped/,
    );
  });

  it('--dry-run prints the plan and writes nothing', () => {
    const dest = existing();
    const result = run({ client: 'claude-code', from, config: dest, dryRun: true });
    assert.equal(result.code, 0);
    assert.ok(result.out.some((line) => line.startsWith('  would import context7: ')));
    assert.match(result.out.at(-1)!, /^Dry run: .* was not written; it would get: 5 imported/);
    assert.equal(readFileSync(dest, 'utf8'), original);
    assert.deepEqual(readdirSync(path.dirname(dest)), ['config.json']);
    const fresh = path.join(freshDir(), 'config.json');
    assert.equal(run({ client: 'claude-code', from, config: fresh, dryRun: true }).code, 0);
    assert.equal(existsSync(fresh), false);
  });

  it('refuses to write a result that would be invalid, listing the problems', () => {
    const dest = path.join(freshDir(), 'config.json');
    const invalid = '{ "mcpServers": {}, "workers": 0 }\n';
    writeFileSync(dest, invalid);
    const result = run({ client: 'claude-code', from, config: dest });
    assert.equal(result.code, 1);
    assert.deepEqual(result.err, [
      `mcp-director: not writing ${dest}: the result would be invalid (1 problem):`,
      `  ${dest}: workers: expected an integer of at least 1, found 0`,
      `${dest} had problems before this import: fix them first (mcp-director config validate lists them)`,
    ]);
    assert.equal(readFileSync(dest, 'utf8'), invalid);
    assert.deepEqual(readdirSync(path.dirname(dest)), ['config.json']);
  });

  it('refuses a config that does not parse, in one line with line:column', () => {
    const dest = path.join(freshDir(), 'config.json');
    writeFileSync(dest, '{\n  "mcpServers": {\n    "a": { "command": "x" }\n    "b": {}\n  }\n}\n');
    const result = run({ client: 'claude-code', from, config: dest });
    assert.equal(result.code, 1);
    assert.equal(result.err.length, 1);
    assert.match(
      result.err[0]!,
      new RegExp(`^mcp-director: ${dest}:4:5: not valid JSON \\(CommaExpected\\); fix it`),
    );
  });

  it('writes through a symlink, keeping the link', () => {
    const dir = freshDir();
    const real = path.join(dir, 'real.json');
    const link = path.join(dir, 'config.json');
    writeFileSync(real, original);
    symlinkSync(real, link);
    assert.equal(run({ client: 'claude-code', from, config: link }).code, 0);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.match(readFileSync(real, 'utf8'), /"context7"/);
  });
});

describe('finding the files', () => {
  it('reads the client file from its default place and writes the default config', () => {
    const home = freshDir();
    const cursorFile = path.join(home, '.cursor/mcp.json');
    mkdirSync(path.dirname(cursorFile), { recursive: true });
    writeFileSync(cursorFile, readFileSync(path.join(FIXTURES, 'cursor/mcp.json')));
    const result = run({ client: 'cursor' }, { HOME: home });
    assert.equal(result.code, 0, result.err.join('\n'));
    assert.equal(result.out[0], `Cursor: ${cursorFile}`);
    const dest = path.join(home, '.config/mcp-director/config.json');
    assert.deepEqual({ mcpServers: readJsonc(dest)['mcpServers'] }, golden('cursor'));
    assert.equal(result.out.at(-1), 'Check it with: mcp-director config validate');
  });

  it('a missing source is one line naming the path and --from', () => {
    const from = path.join(root, 'nowhere/mcp.json');
    const result = run({ client: 'cursor', from, config: path.join(freshDir(), 'c.json') });
    assert.equal(result.code, 1);
    assert.deepEqual(result.err, [
      `mcp-director: no file at ${from}: check the path given to --from`,
    ]);
    const home = freshDir();
    const defaults = run({ client: 'vscode' }, { HOME: home });
    assert.equal(defaults.code, 1);
    assert.deepEqual(defaults.err, [
      `mcp-director: no VS Code config at ${home}/.config/Code/User/mcp.json or ${home}/.config/Code/User/settings.json; name the file with --from FILE`,
    ]);
  });

  it('a file without servers is an error that says where they were looked for', () => {
    const from = path.join(freshDir(), 'settings.json');
    writeFileSync(from, '{ "theme": "GitHub" }');
    const result = run({ client: 'gemini', from, config: path.join(root, 'unused.json') });
    assert.equal(result.code, 1);
    assert.deepEqual(result.err, [
      `mcp-director: no MCP servers in ${from}: Gemini CLI lists them in "mcpServers"`,
    ]);
  });

  it('default paths on Linux, macOS and Windows', () => {
    const linux = { env: { HOME: '/home/u' }, platform: 'linux' as const };
    const xdg = { env: { HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' }, platform: 'linux' as const };
    const mac = { env: { HOME: '/Users/u' }, platform: 'darwin' as const };
    const win = {
      env: { USERPROFILE: 'C:\\Users\\u', APPDATA: 'C:\\Users\\u\\AppData\\Roaming' },
      platform: 'win32' as const,
    };
    const paths = (client: ClientName, host: typeof linux | typeof xdg | typeof mac | typeof win) =>
      CLIENTS[client].defaultPaths(host);
    assert.deepEqual(paths('claude-desktop', linux), [
      '/home/u/.config/Claude/claude_desktop_config.json',
    ]);
    assert.deepEqual(paths('claude-desktop', xdg), ['/xdg/Claude/claude_desktop_config.json']);
    assert.deepEqual(paths('claude-desktop', mac), [
      '/Users/u/Library/Application Support/Claude/claude_desktop_config.json',
    ]);
    assert.deepEqual(paths('claude-desktop', win), [
      'C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    ]);
    assert.deepEqual(paths('claude-code', win), ['C:\\Users\\u\\.claude.json']);
    assert.deepEqual(paths('cursor', mac), ['/Users/u/.cursor/mcp.json']);
    assert.deepEqual(paths('gemini', win), ['C:\\Users\\u\\.gemini\\settings.json']);
    assert.deepEqual(paths('vscode', mac), [
      '/Users/u/Library/Application Support/Code/User/mcp.json',
      '/Users/u/Library/Application Support/Code/User/settings.json',
    ]);
    assert.deepEqual(paths('vscode', win), [
      'C:\\Users\\u\\AppData\\Roaming\\Code\\User\\mcp.json',
      'C:\\Users\\u\\AppData\\Roaming\\Code\\User\\settings.json',
    ]);
  });
});

describe('ids', () => {
  it('sanitizes names deterministically into the director id alphabet', () => {
    assert.equal(sanitizeId('github'), 'github');
    assert.equal(sanitizeId('Brave Search'), 'Brave-Search');
    assert.equal(sanitizeId('@acme/db.tools'), 'acme-db-tools');
    assert.equal(sanitizeId('my__server'), 'my_server');
    assert.equal(sanitizeId('日本語'), 'server');
    assert.equal(sanitizeId('a'.repeat(40)), 'a'.repeat(32));
    assert.equal(sanitizeId(`${'b'.repeat(31)} c`), 'b'.repeat(31));
  });

  it('collapses identical entries and numbers different ones', () => {
    const item = (name: string, origin: string, command: string) => ({
      name,
      origin,
      entry: { command },
    });
    const assigned = assignIds([
      item('db', 'a', 'x'),
      item('db', 'b', 'y'),
      item('db', 'c', 'y'),
      item('d b', 'd', 'z'),
    ]);
    assert.deepEqual(
      assigned.map((a) => ('duplicateOf' in a ? `dup of ${a.duplicateOf}` : a.id)),
      ['db', 'db-2', 'dup of b', 'd-b'],
    );
  });
});

describe('variables', () => {
  const server: SourceServer = {
    name: 's',
    origin: 'servers.s',
    raw: {},
    projectDir: '/work/shop',
    inputs: new Map([['api-key', 'The API key']]),
  };
  function translate(text: string, syntax: 'editor' | 'gemini' | 'shell', project = true) {
    const notes: string[] = [];
    const context = {
      server: project ? server : { ...server, projectDir: undefined },
      platform: 'linux' as const,
      note: (_verb: string, message: string) => notes.push(message),
    };
    return { text: translateVariables(text, syntax, context), notes };
  }

  it("editor variables become the director's ${VAR} where they can", () => {
    assert.deepEqual(translate('${env:TOKEN}|${userHome}${/}x|${pathSeparator}', 'editor'), {
      text: '${TOKEN}|${HOME}/x|/',
      notes: [],
    });
    assert.deepEqual(
      translate('${workspaceFolder}/a ${workspaceFolderBasename}', 'editor').text,
      '/work/shop/a shop',
    );
    const input = translate('Bearer ${input:api-key}', 'editor');
    assert.equal(input.text, 'Bearer ${API_KEY}');
    assert.deepEqual(input.notes, [
      '${input:api-key} became ${API_KEY} (the client asked for "The API key"): a daemon cannot prompt, so set API_KEY in its environment',
    ]);
    const unknown = translate('${config:editor.tabSize} ${workspaceFolder}', 'editor', false);
    assert.equal(unknown.text, '${config:editor.tabSize} ${workspaceFolder}');
    assert.equal(unknown.notes.length, 2);
  });

  it('Gemini $VAR becomes ${VAR}; Claude Code syntax is already ours', () => {
    assert.equal(translate('$A and ${B} and $', 'gemini').text, '${A} and ${B} and $');
    assert.equal(translate('${A:-x} $B', 'shell').text, '${A:-x} $B');
  });
});

describe('jsonc edits', () => {
  const style = { unit: '  ', eol: '\n' };

  it('inserts after the last property and its comment, with or without a trailing comma', () => {
    const text = '{\n  "a": 1 // one\n}\n';
    assert.equal(
      insertProperty(text, [], 'b', { x: [1, 2] }, style),
      '{\n  "a": 1, // one\n  "b": {\n    "x": [1, 2]\n  }\n}\n',
    );
    const trailing = '{\n  "a": 1, // one\n}';
    assert.equal(insertProperty(trailing, [], 'b', 2, style), '{\n  "a": 1, // one\n  "b": 2,\n}');
    assert.equal(insertProperty('{}', [], 'b', 2, style), '{\n  "b": 2\n}');
    assert.equal(insertProperty('{"a":1}', [], 'b', 2, style), '{"a":1,\n  "b": 2\n}');
  });

  it("keeps the file's tabs and CRLF line ends", () => {
    const tabs = { unit: '\t', eol: '\r\n' };
    const text = '{\r\n\t"s": {\r\n\t\t"a": 1\r\n\t}\r\n}\r\n';
    assert.equal(
      insertProperty(text, ['s'], 'b', { c: true }, tabs),
      '{\r\n\t"s": {\r\n\t\t"a": 1,\r\n\t\t"b": {\r\n\t\t\t"c": true\r\n\t\t}\r\n\t}\r\n}\r\n',
    );
  });

  it('replaces one value, leaving its neighbours and their comments', () => {
    const text = '{\n  "a": { "x": 1 }, // a\n  "b": 2 // b\n}';
    assert.equal(
      replaceValue(text, ['a'], { y: 2 }, style),
      '{\n  "a": {\n    "y": 2\n  }, // a\n  "b": 2 // b\n}',
    );
  });
});

describe('the director itself is never imported', () => {
  const entries = {
    director: { command: 'mcp-director', args: ['connect'] },
    'director-profile': {
      command: '/usr/local/bin/mcp-director',
      args: ['connect', '--profile', 'review'],
      env: { MCP_DIRECTOR_TOKEN: 'x' },
    },
    'director-node': {
      command: 'node',
      args: ['/home/u/mcp-director/dist/src/cli/main.js', 'connect', '--url', 'http://x/mcp'],
    },
    'director-npx': { command: 'npx', args: ['-y', 'mcp-director@latest', 'connect'] },
    'director-windows': { command: 'C:\\tools\\mcp-director.cmd', args: ['connect'] },
    'director-serve': { command: 'mcp-director', args: ['serve', '--profile', 'review'] },
    'url-default': { type: 'http', url: 'http://127.0.0.1:8765/mcp' },
    'url-localhost-profile': { type: 'http', url: 'http://localhost:8765/mcp/review?x=secret' },
    'url-sse': { type: 'sse', url: 'http://[::1]:8765/sse' },
    'url-configured-port': { type: 'http', url: 'http://127.0.0.1:9911/mcp' },
    // Not the director: other ports, other paths, other hosts, other programs.
    'other-port': { type: 'http', url: 'http://127.0.0.1:8766/mcp' },
    'other-path': { type: 'http', url: 'http://127.0.0.1:8765/api/mcp-proxy' },
    'other-host': { type: 'http', url: 'https://mcp.example.com/mcp' },
    'other-command': { command: 'mcp-director-helper', args: ['connect'] },
    'other-node': { command: 'node', args: ['server.js', 'connect'] },
    'director-status': { command: 'mcp-director', args: ['servers'] },
  };

  it('skips each entry that is the director, saying why, and imports the rest', () => {
    const dir = freshDir();
    const from = path.join(dir, 'claude_desktop_config.json');
    writeFileSync(from, JSON.stringify({ mcpServers: entries }));
    const dest = path.join(dir, 'config.json');
    writeFileSync(dest, JSON.stringify({ listen: { port: 9911 } }));
    const { code, out, err } = run({ client: 'claude-desktop', from, config: dest });
    assert.equal(code, 0, err.join('\n'));
    const skipped = new Map(
      out.flatMap((line) => {
        const match = /^ {2}skipped (\S+): (.*)$/.exec(line);
        return match ? [[match[1]!, match[2]!]] : [];
      }),
    );
    for (const id of [
      'director',
      'director-profile',
      'director-node',
      'director-npx',
      'director-windows',
    ]) {
      assert.match(skipped.get(id) ?? '', /runs `mcp-director connect`.*a backend of itself/, id);
    }
    assert.match(
      skipped.get('director-serve') ?? '',
      /runs `mcp-director serve`.*a director inside the director/,
    );
    assert.equal(
      skipped.get('url-default'),
      "its URL http://127.0.0.1:8765/mcp is this MCP Director's own endpoint: importing it would make the director a backend of itself",
    );
    assert.match(
      skipped.get('url-localhost-profile') ?? '',
      /http:\/\/localhost:8765\/mcp\/review is/,
    );
    assert.ok(!out.join('\n').includes('secret'), 'never the query');
    assert.match(skipped.get('url-sse') ?? '', /http:\/\/\[::1\]:8765\/sse is/);
    assert.match(skipped.get('url-configured-port') ?? '', /127\.0\.0\.1:9911\/mcp is/);
    assert.equal(skipped.size, 10, [...skipped.keys()].join());
    const servers = readJsonc(dest)['mcpServers'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(servers).sort(), [
      'director-status',
      'other-command',
      'other-host',
      'other-node',
      'other-path',
      'other-port',
    ]);
    assert.match(out.at(-2)!, /: 6 imported, 0 replaced, 0 already present, 10 skipped/);
  });
});
