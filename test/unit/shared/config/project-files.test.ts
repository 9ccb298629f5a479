/**
 * A project's own `.mcp.json` (config/project-files.ts): which of its servers join the
 * config, as what, and what a file the project got wrong costs (its own entries only).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  projectFilesOf,
  serversOfProjectFile,
  withProjectFiles,
  MAX_FILE_SERVERS,
} from '../../../../src/shared/config/project-files.js';
import { parseConfigText } from '../../../../src/shared/config/load.js';
import type { ProjectConfig, StdioServerConfig } from '../../../../src/shared/config/types.js';

const scratch = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'mcpd-project-file-')));
const ENV = { HOME: scratch, TOKEN: 'from-the-daemon' };

/** A project folder whose `.mcp.json` has `text` (none when undefined). */
function project(name: string, text?: string): ProjectConfig {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  if (text !== undefined) writeFileSync(path.join(dir, '.mcp.json'), text);
  return { name, dir, profile: null, mcpJson: true };
}

function read(config: ProjectConfig): {
  servers: ReturnType<typeof serversOfProjectFile>;
  warnings: string[];
} {
  const warnings: string[] = [];
  const servers = serversOfProjectFile(config, ENV, (message) => warnings.push(message));
  return { servers, warnings };
}

describe("a project's own .mcp.json", () => {
  it("makes each entry a server of the project: its name as prefix, the project's folder and variables", () => {
    const site = project(
      'site',
      JSON.stringify({
        mcpServers: {
          files: {
            command: 'npx',
            args: ['-y', 'fs-server', '${projectDir}', '${projectName}'],
            env: { API_TOKEN: '${TOKEN}' },
          },
          docs: { type: 'http', url: 'https://docs.example.com/mcp' },
          // The director itself, as the README has Claude Code users add it: left out.
          director: { command: 'mcp-director', args: ['connect'] },
        },
      }),
    );
    const { servers, warnings } = read(site);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      servers.map((s) => [s.id, s.prefix, s.transport, s.start, s.idleStopMs, s.share]),
      [
        ['files@site', 'files', 'stdio', 'lazy', 600_000, 'global'],
        ['docs@site', 'docs', 'http', 'lazy', 600_000, 'global'],
      ],
    );
    const files = servers[0] as StdioServerConfig;
    assert.deepEqual(files.args, ['-y', 'fs-server', site.dir, 'site']);
    assert.equal(files.cwd, site.dir);
    assert.equal(files.env['API_TOKEN'], 'from-the-daemon');
    assert.deepEqual(files.ownedBy, {
      project: 'site',
      dir: site.dir,
      file: path.join(site.dir, '.mcp.json'),
    });
  });

  it('the project is its real folder, as a session names it', () => {
    const real = project('real', JSON.stringify({ mcpServers: { a: { command: 'a' } } }));
    const link = path.join(scratch, 'link');
    symlinkSync(real.dir, link);
    const { servers } = read({ ...real, name: 'linked', dir: link });
    assert.equal(servers[0]?.ownedBy?.dir, real.dir);
  });

  it('skips what the project got wrong, entry by entry, naming the file', () => {
    const entries = JSON.stringify({
      good: { command: 'ok' },
      'has space': { command: 'x' },
      a__b: { command: 'x' },
      typo: { comand: 'x' },
      numbers: { command: 42 },
      shared: { command: 'x', share: 'project' },
      unset: { command: '${NOT_SET_ANYWHERE}' },
    });
    // A key an object literal cannot hold: it would be a prototype, not an entry.
    const messy = project(
      'messy',
      `{"mcpServers": {"__proto__": {"command": "x"}, ${entries.slice(1)}}`,
    );
    const { servers, warnings } = read(messy);
    assert.deepEqual(
      servers.map((s) => s.id),
      ['good@messy'],
    );
    const file = path.join(messy.dir, '.mcp.json');
    assert.ok(warnings.length >= 6, warnings.join('\n'));
    for (const warning of warnings) assert.ok(warning.startsWith(file), warning);
    const text = warnings.join('\n');
    for (const name of ['["has space"]', '.a__b:', '.typo.', '.numbers.', '.shared.', '.unset.'])
      assert.ok(text.includes(name), `${name} not named in:\n${text}`);
    // `__proto__` is no entry: the parser makes it that object's prototype, nobody else's.
    assert.ok(!text.includes('__proto__'), text);
    assert.equal(({} as { command?: unknown }).command, undefined);
  });

  it('a file that is not one, is broken or too big costs its servers, and says so', () => {
    assert.deepEqual(read(project('none')), { servers: [], warnings: [] });
    const cases: Array<[string, string, RegExp]> = [
      ['syntax', '{"mcpServers": {', /syntax|Expected|expected|EOF/i],
      ['shape', '["not", "an", "object"]', /expected \{"mcpServers": \{…\}\}/],
      ['huge', `{"mcpServers": {}, "pad": "${'x'.repeat(1024 * 1024)}"}`, /more than 1048576/],
    ];
    for (const [name, text, why] of cases) {
      const { servers, warnings } = read(project(name, text));
      assert.deepEqual(servers, [], name);
      assert.equal(warnings.length, 1, `${name}: ${warnings.join('\n')}`);
      assert.match(warnings[0] ?? '', why);
    }
    const many = Object.fromEntries(
      Array.from({ length: MAX_FILE_SERVERS + 5 }, (_, i) => [`s${i}`, { command: 'x' }]),
    );
    const crowded = read(project('crowded', JSON.stringify({ mcpServers: many })));
    assert.equal(crowded.servers.length, MAX_FILE_SERVERS);
    assert.match(crowded.warnings.join('\n'), /names 69 servers; only the first 64 are read/);
    const folder = project('folder');
    mkdirSync(path.join(folder.dir, '.mcp.json'));
    assert.match(read(folder).warnings[0] ?? '', /is not a file/);
  });

  it('is read only for the projects that allow it, after the config file is checked', () => {
    const allowed = project('allowed', JSON.stringify({ mcpServers: { a: { command: 'a' } } }));
    const refused = project('refused', JSON.stringify({ mcpServers: { b: { command: 'b' } } }));
    const config = parseConfigText(
      JSON.stringify({
        mcpServers: { main: { command: 'main' } },
        projects: {
          allowed: { dir: allowed.dir, mcpJson: true },
          refused: { dir: refused.dir },
        },
      }),
      path.join(scratch, 'config.json'),
      ENV,
    );
    assert.deepEqual(
      config.servers.map((s) => s.id),
      ['main', 'a@allowed'],
    );
    // A project's server is nobody's by default: the default profile lists the config's.
    assert.deepEqual(config.profiles['default']?.servers, ['main']);
    assert.deepEqual(projectFilesOf(config), [path.join(allowed.dir, '.mcp.json')]);
  });

  it("the config's own servers of a project: strict like the config, and the file's same name left out", () => {
    const site = project(
      'both',
      JSON.stringify({ mcpServers: { notes: { command: 'from-file' } } }),
    );
    const configFile = path.join(scratch, 'config.json');
    const text = (servers: object): string =>
      JSON.stringify({ projects: { both: { dir: site.dir, mcpJson: true, servers } } });
    // The operator's file: a wrong project server is a config error, named where it is.
    assert.throws(
      () => parseConfigText(text({ notes: { command: '${UNSET_HERE}' } }), configFile, ENV),
      /projects\.both\.servers\.notes\.command: \$\{UNSET_HERE\} is not set/,
    );
    // …and may act as each token, as a config server may (a project's file may not).
    assert.throws(
      () =>
        parseConfigText(
          text({ notes: { command: 'x', env: { T: '${token.a}' } } }),
          configFile,
          ENV,
        ),
      /projects\.both\.servers\.notes\.env\.T: \$\{token\.a\} takes the calling token's value/,
    );
    const warnings: string[] = [];
    const config = withProjectFiles(
      parseConfigTextQuietly(text({ notes: { command: 'from-config' } }), configFile),
      ENV,
      (message) => warnings.push(message),
    );
    const notes = config.servers.filter((s) => s.id === 'notes@both') as StdioServerConfig[];
    assert.deepEqual(
      notes.map((s) => [s.command, s.ownedBy?.file]),
      [['from-config', configFile]],
    );
    assert.match(warnings.join('\n'), /gives project 'both' a server of that name already/);
  });
});

/** The config without its projects' files (parseConfigText reads them, and logs). */
function parseConfigTextQuietly(text: string, file: string) {
  const parsed = JSON.parse(text) as { projects: Record<string, { mcpJson?: boolean }> };
  const config = parseConfigText(
    JSON.stringify({
      ...parsed,
      projects: Object.fromEntries(
        Object.entries(parsed.projects).map(([name, p]) => [name, { ...p, mcpJson: false }]),
      ),
    }),
    file,
    ENV,
  );
  return { ...config, projects: config.projects.map((p) => ({ ...p, mcpJson: true })) };
}
