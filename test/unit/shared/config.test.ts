/**
 * The config module: golden files → normalized config, defaults, `${VAR}` expansion, paths,
 * file resolution, CLI overrides, deep freeze and the checked-in JSON Schema. The exact
 * wording of every error is pinned in config/problems.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  CONFIG_DEFAULTS,
  EMBEDDED_SOURCE,
  embeddedDefaultConfig,
} from '../../../src/shared/config/defaults.js';
import { loadConfig, parseConfigText } from '../../../src/shared/config/load.js';
import { defaultWorkers, unrestrictedProfile } from '../../../src/shared/config/defaults.js';
import { expandVariables } from '../../../src/shared/config/expand.js';
import { configJsonSchema } from '../../../src/shared/config/schema.js';
import type { ServerConfig, StdioServerConfig } from '../../../src/shared/config/types.js';

/** Tests run from dist/test/unit/shared; fixtures and the schema stay in the source tree. */
const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
const fixture = (name: string) =>
  readFileSync(path.join(repoRoot, 'test/fixtures/configs', name), 'utf8');
const FILE = '/home/u/.config/mcp-director/config.json';
const ENV = { HOME: '/home/u' };
const cores = os.availableParallelism();

const parse = (text: string, env: NodeJS.ProcessEnv = ENV) => parseConfigText(text, FILE, env);
const serversOf = (mcpServers: object, env: NodeJS.ProcessEnv = ENV) =>
  parse(JSON.stringify({ mcpServers }), env).servers;

/** The server as a stdio one (the test fails if it is not). */
function stdio(server: ServerConfig | undefined): StdioServerConfig {
  assert.equal(server?.transport, 'stdio');
  return server as StdioServerConfig;
}

describe('golden configs', () => {
  it('normalizes a config that sets everything', () => {
    const env = {
      HOME: '/home/u',
      GITHUB_TOKEN: 'ghp_example',
      FS_MODE: '',
      CI_TOKEN: 'ci-token-of-32-characters-000000',
    };
    const config = parse(fixture('full.jsonc'), env);
    assert.deepEqual(
      JSON.parse(JSON.stringify(config)),
      JSON.parse(fixture('full.normalized.json')),
    );
  });

  it('accepts a Claude Desktop config as pasted, one worker per server up to the cores less one', () => {
    const { workers, ...rest } = parse(fixture('claude-desktop.json'));
    assert.deepEqual(rest, JSON.parse(fixture('claude-desktop.normalized.json')));
    assert.equal(workers, Math.max(1, Math.min(cores - 1, 2)));
  });
});

describe('defaults', () => {
  it('runs one shard per server up to the cores less one (the supervisor needs one), at least one', () => {
    assert.equal(defaultWorkers(10, 8), 7);
    assert.equal(defaultWorkers(3, 8), 3);
    assert.equal(defaultWorkers(10, 2), 1);
    assert.equal(defaultWorkers(10, 1), 1);
    assert.equal(defaultWorkers(0, 8), 1);
  });

  it('fills every director setting of an empty file', () => {
    assert.deepEqual(parse('{}'), {
      source: FILE,
      servers: [],
      listen: { host: '127.0.0.1', port: 8765 },
      workers: 1,
      dataDir: '/home/u/.local/share/mcp-director',
      analytics: { enabled: true, retentionDays: 30, maxSizeMB: 1024 },
      telemetry: { otlp: null },
      maxBodyBytes: 4 * 1024 * 1024,
      pageSize: 100,
      allowedOrigins: [],
      sessionIdleMs: 30 * 60 * 1000,
      profiles: { default: unrestrictedProfile('default', []) },
      tokens: [],
      requireToken: false,
      oauth: null,
      cluster: null,
      projectRoots: ['/home/u'],
      projects: [],
      limits: { ...CONFIG_DEFAULTS.limits },
    });
  });

  it('fills every server setting: prefix = id, cwd = the file folder', () => {
    assert.deepEqual(serversOf({ a: { command: 'x' } }), [
      {
        transport: 'stdio',
        id: 'a',
        command: 'x',
        args: [],
        env: {},
        cwd: '/home/u/.config/mcp-director',
        prefix: 'a',
        timeoutMs: 60_000,
        share: 'global',
        start: 'eager',
        idleStopMs: 0,
        initializeTimeoutMs: 60_000,
      },
    ]);
  });

  it('puts data under $XDG_DATA_HOME when it is absolute', () => {
    const dataDir = (env: NodeJS.ProcessEnv) => parse('{}', env).dataDir;
    assert.equal(dataDir({ ...ENV, XDG_DATA_HOME: '/xdg' }), '/xdg/mcp-director');
    assert.equal(dataDir({ ...ENV, XDG_DATA_HOME: 'rel' }), '/home/u/.local/share/mcp-director');
  });

  it('counts only enabled servers for the default number of workers', () => {
    const mcpServers = {
      a: { command: 'a' },
      b: { command: 'b' },
      c: { command: 'c', disabled: true },
    };
    const config = parse(JSON.stringify({ mcpServers }));
    assert.deepEqual(
      config.servers.map((s) => s.id),
      ['a', 'b'],
    );
    assert.equal(config.workers, Math.max(1, Math.min(cores - 1, 2)));
  });

  it('keeps servers in file order, integer-like ids included', () => {
    const text =
      '{"mcpServers": {"b": {"command": "b"}, "2": {"command": "2"}, "1": {"command": "1"}}}';
    assert.deepEqual(
      parse(text).servers.map((s) => s.id),
      ['b', '2', '1'],
    );
  });

  it('embeds a demo server run by this Node binary when there is no file', () => {
    const config = embeddedDefaultConfig(ENV);
    const demoPath = fileURLToPath(new URL('../../../src/demo/demo-server.js', import.meta.url));
    assert.equal(config.source, EMBEDDED_SOURCE);
    assert.deepEqual(config.servers, [
      {
        transport: 'stdio',
        id: 'demo',
        command: process.execPath,
        args: [demoPath],
        env: {},
        cwd: process.cwd(),
        prefix: 'demo',
        timeoutMs: 60_000,
        share: 'global',
        start: 'eager',
        idleStopMs: 0,
        initializeTimeoutMs: 60_000,
      },
    ]);
    // The embedded config is what the same servers would give as a file.
    const asFile = {
      mcpServers: { demo: { command: process.execPath, args: [demoPath], prefix: 'demo' } },
    };
    const fromFile = parse(JSON.stringify(asFile));
    assert.deepEqual(
      {
        ...config,
        source: FILE,
        servers: [{ ...config.servers[0]!, cwd: stdio(fromFile.servers[0]).cwd }],
      },
      fromFile,
    );
  });

  it('are frozen', () => {
    assert.ok(Object.isFrozen(CONFIG_DEFAULTS) && Object.isFrozen(CONFIG_DEFAULTS.listen));
  });
});

describe('${VAR} expansion', () => {
  const expand = (text: string, env: NodeJS.ProcessEnv) => {
    const unset: string[] = [];
    return { value: expandVariables(text, env, (name) => unset.push(name)), unset };
  };

  it('takes defaults for unset and empty variables, as POSIX shells do', () => {
    assert.deepEqual(expand('${A:-x}/${B:-y}/${C:-z}', { B: '', C: 'c' }), {
      value: 'x/y/c',
      unset: [],
    });
    assert.deepEqual(expand('${A:-}', {}), { value: '', unset: [] });
  });

  it('reports each unset variable without a default once, and expands it to ""', () => {
    assert.deepEqual(expand('${A}-${B}-${A}-${C}', { C: 'c' }), {
      value: '---c',
      unset: ['A', 'B'],
    });
  });

  it('leaves other uses of $ as written', () => {
    const text = '$A ${A-x} ${1X} ${} $${A:-d}';
    assert.deepEqual(expand(text, {}), { value: '$A ${A-x} ${1X} ${} $d', unset: [] });
  });

  it('expands command, args, env values and cwd, but not env names or prefix', () => {
    const env = { ...ENV, BIN: '/opt/bin', TOKEN: 't', DIR: 'work' };
    const [server] = serversOf(
      {
        s: {
          command: '${BIN}/tool',
          args: ['--token=${TOKEN}', '${MISSING:-none}'],
          env: { '${TOKEN}': '${TOKEN}' },
          cwd: '${DIR}',
          prefix: 'p',
        },
      },
      env,
    );
    assert.equal(stdio(server).command, '/opt/bin/tool');
    assert.deepEqual(stdio(server).args, ['--token=t', 'none']);
    assert.deepEqual(stdio(server).env, { '${TOKEN}': 't' });
    assert.equal(stdio(server).cwd, '/home/u/.config/mcp-director/work');
  });
});

describe('remote servers', () => {
  it('a "url" entry is a Streamable HTTP server; url and header values expand', () => {
    const text = JSON.stringify({
      mcpServers: {
        gh: {
          type: 'http',
          url: 'https://${HOST}/mcp',
          headers: { Authorization: 'Bearer ${TOKEN}' },
          share: 'session',
        },
      },
    });
    const env = { ...ENV, HOST: 'api.example.com', TOKEN: 't0k' };
    assert.deepEqual(parse(text, env).servers, [
      {
        id: 'gh',
        prefix: 'gh',
        timeoutMs: 60_000,
        share: 'session',
        start: 'eager',
        idleStopMs: 0,
        initializeTimeoutMs: 60_000,
        transport: 'http',
        httpTransport: 'auto',
        url: 'https://api.example.com/mcp',
        headers: { Authorization: 'Bearer t0k' },
        auth: { mode: 'none', scopes: [] },
      },
    ]);
  });

  it('remote sign-in: OAuth once challenged by default, from the start, or never', () => {
    const auth = (entry: object) =>
      serversOf({ r: { url: 'https://r.example.com/mcp', ...entry } }).map((s) =>
        s.transport === 'http' ? s.auth : null,
      )[0];
    assert.deepEqual(auth({}), { mode: 'auto', scopes: [] });
    assert.deepEqual(auth({ headers: { authorization: 'Bearer x' } }), {
      mode: 'none',
      scopes: [],
    });
    assert.deepEqual(auth({ auth: 'oauth' }), { mode: 'oauth', scopes: [] });
    assert.deepEqual(
      serversOf(
        {
          r: {
            url: 'https://r.example.com/mcp',
            auth: {
              type: 'oauth',
              scopes: ['read'],
              clientId: 'director',
              clientSecret: '${SECRET}',
            },
          },
        },
        { ...ENV, SECRET: 's3cret' },
      ).map((s) => (s.transport === 'http' ? s.auth : null)),
      [{ mode: 'oauth', scopes: ['read'], clientId: 'director', clientSecret: 's3cret' }],
    );
  });
});

describe('paths', () => {
  it('resolves cwd against the config folder, and ~ against HOME', () => {
    const cwds = serversOf({
      rel: { command: 'x', cwd: '../shared' },
      home: { command: 'x', cwd: '~/src' },
      abs: { command: 'x', cwd: '/srv' },
    }).map((s) => stdio(s).cwd);
    assert.deepEqual(cwds, ['/home/u/.config/shared', '/home/u/src', '/srv']);
  });

  it('resolves dataDir against the config folder', () => {
    assert.equal(parse('{"dataDir": "state"}').dataDir, '/home/u/.config/mcp-director/state');
  });
});

describe('loadConfig', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcp-director-config-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (relative: string, port: number) => {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `\uFEFF{ "listen": { "port": ${port} }, }`);
    return file;
  };
  const explicit = write('explicit.json', 1001);
  const named = write('named.json', 1002);
  write('xdg/mcp-director/config.json', 1003);
  write('home/.config/mcp-director/config.json', 1004);
  const home = path.join(root, 'home');
  const empty = path.join(root, 'empty-home');

  it('resolves configPath, then MCP_DIRECTOR_CONFIG, then the XDG or HOME default', () => {
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(root, 'xdg'), MCP_DIRECTOR_CONFIG: named };
    const portOf = (options: Parameters<typeof loadConfig>[0]) => loadConfig(options).listen.port;
    assert.equal(portOf({ configPath: explicit, env }), 1001);
    assert.equal(portOf({ env }), 1002);
    assert.equal(portOf({ env: { ...env, MCP_DIRECTOR_CONFIG: '' } }), 1003);
    assert.equal(portOf({ env: { HOME: home } }), 1004);
    assert.equal(
      loadConfig({ env: { HOME: home } }).source,
      path.join(home, '.config/mcp-director/config.json'),
    );
  });

  it('falls back to the embedded defaults when the default file does not exist', () => {
    const config = loadConfig({ env: { HOME: empty } });
    assert.equal(config.source, EMBEDDED_SOURCE);
    assert.deepEqual(
      config.servers.map((s) => s.id),
      ['demo'],
    );
    assert.equal(config.dataDir, path.join(empty, '.local/share/mcp-director'));
  });

  it('lets overrides win over the file and the embedded defaults', () => {
    const overrides = { port: 0, host: '::1', dataDir: '~/d', workers: 7 };
    for (const configPath of [explicit, undefined]) {
      const config = loadConfig({ configPath, env: { HOME: empty }, overrides });
      assert.deepEqual(config.listen, { host: '::1', port: 0 });
      assert.equal(config.workers, 7);
      assert.equal(config.dataDir, path.join(empty, 'd'));
    }
    const relative = loadConfig({
      configPath: explicit,
      overrides: { dataDir: 'd', port: undefined },
    });
    assert.equal(relative.dataDir, path.resolve('d'));
    assert.equal(relative.listen.port, 1001);
  });

  it('returns a deep-frozen config', () => {
    const config = loadConfig({ configPath: explicit, overrides: { port: 5 } });
    const server = serversOf({ a: { command: 'x', args: ['1'], env: { A: 'a' } } })[0]!;
    for (const value of [
      config,
      config.listen,
      config.analytics,
      config.allowedOrigins,
      server,
      stdio(server).args,
      stdio(server).env,
    ]) {
      assert.ok(Object.isFrozen(value));
    }
    assert.throws(() => {
      (config.listen as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => (stdio(server).args as string[]).push('2'), TypeError);
  });
});

describe('JSON Schema', () => {
  it('is checked in as generated from the zod schema', () => {
    const checkedIn: unknown = JSON.parse(
      readFileSync(path.join(repoRoot, 'schema/config.schema.json'), 'utf8'),
    );
    assert.deepEqual(
      checkedIn,
      configJsonSchema(),
      'schema/config.schema.json is stale: see src/shared/config/print-schema.ts to regenerate it',
    );
  });
});

describe('examples', () => {
  it('every example in examples/ loads, and names the shipped schema', () => {
    const folder = path.join(repoRoot, 'examples');
    const env = {
      HOME: '/home/u',
      GITHUB_TOKEN: 'ghp_example',
      ALICE_TOKEN: 'a'.repeat(32),
      REVIEW_BOT_TOKEN: 'r'.repeat(32),
      AGENT_TOKEN: 'g'.repeat(32),
    };
    const files = readdirSync(folder).filter((f) => f.endsWith('.jsonc'));
    assert.ok(files.length >= 2);
    for (const file of files) {
      const text = readFileSync(path.join(folder, file), 'utf8');
      assert.match(text, /"\$schema": "\.\.\/schema\/config\.schema\.json"/, file);
      const config = parseConfigText(text, path.join(folder, file), env);
      assert.ok(config.servers.length > 0, file);
    }
  });
});
