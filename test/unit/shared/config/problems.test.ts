/**
 * The exact text of every kind of config error: each names the file, the JSON path (or
 * line:column), what was found and what was expected, and all of them come at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import type { LoadConfigOptions } from '../../../../src/shared/config/load.js';
import { ConfigError, loadConfig, parseConfigText } from '../../../../src/shared/config/load.js';
import { closestKey } from '../../../../src/shared/config/problems.js';

const FILE = '/home/u/.config/mcp-director/config.json';
const ENV = { HOME: '/home/u' };

function errorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

/** The message lines below the heading, for a config given as text or as an object. */
function problemLines(config: string | object, env: NodeJS.ProcessEnv = ENV): string[] {
  const text = typeof config === 'string' ? config : JSON.stringify(config);
  const error = errorOf(() => parseConfigText(text, FILE, env));
  const [heading, ...lines] = error.message.split('\n');
  const count = error.problems.length;
  assert.equal(heading, `Invalid config ${FILE} (${count} problem${count === 1 ? '' : 's'}):`);
  assert.equal(lines.length, count);
  return lines.map((line) => line.replace(`  ${FILE}`, ''));
}

describe('config errors', () => {
  it('syntax errors carry line:column and what was found', () => {
    const text = '{\n  "listen": { "port": 1 }\n  "workers": 2,\n  "pageSize": ]\n}';
    assert.deepEqual(problemLines(text), [
      ':3:3: syntax error: expected a comma, found `"workers"`',
      ':4:15: syntax error: expected a value, found `]`',
    ]);
    assert.deepEqual(problemLines(''), [
      ':1:1: syntax error: expected a value, found the end of the file',
    ]);
    assert.deepEqual(problemLines('{} /* note'), [
      ':1:4: syntax error: expected */ to close the comment, found `/* note`',
    ]);
    const error = errorOf(() => parseConfigText('[1', FILE, ENV));
    assert.deepEqual(error.problems, [
      {
        path: '',
        message: 'syntax error: expected ] to close the array, found the end of the file',
        line: 1,
        column: 3,
      },
    ]);
  });

  it('wrong types name the path, what was expected and the value found', () => {
    const mcpServers = { github: { command: 'npx', args: ['-y', 42] } };
    assert.deepEqual(problemLines({ mcpServers }), [
      ': mcpServers.github.args[1]: expected a string, found 42',
    ]);
    assert.deepEqual(problemLines({ listen: { port: '80' }, analytics: { enabled: 'yes' } }), [
      ': listen.port: expected an integer from 0 to 65535, found "80"',
      ': analytics.enabled: expected true or false, found "yes"',
    ]);
    assert.deepEqual(problemLines({ mcpServers: { a: { args: [] } } }), [
      `: mcpServers.a.command: expected a program to run ("command"), or a remote server's "url", but it is missing`,
    ]);
    assert.deepEqual(problemLines('[]'), [': expected an object, found an array']);
    assert.deepEqual(problemLines({ mcpServers: { a: { command: 'x', share: 'per-user' } } }), [
      ': mcpServers.a.share: expected "global", "session", "identity" or "project", found "per-user"',
    ]);
  });

  it('never echoes env values, which are often secrets', () => {
    assert.deepEqual(problemLines({ mcpServers: { a: { command: 'x', env: { TOKEN: 1234 } } } }), [
      ': mcpServers.a.env.TOKEN: expected a string, found an integer',
    ]);
  });

  it('unknown keys are errors, with a suggestion when one is close', () => {
    assert.deepEqual(problemLines({ listn: {}, mcpServers: { a: { command: 'x', timeout: 5 } } }), [
      ': mcpServers.a.timeout: unknown key; did you mean "timeoutMs"?',
      ': listn: unknown key; did you mean "listen"?',
    ]);
    assert.deepEqual(problemLines({ mcpServers: { a: { command: 'x', autoApprove: [] } } }), [
      ': mcpServers.a.autoApprove: unknown key; expected one of: type, command, args, env, cwd, url, headers, auth, prefix, timeoutMs, share, start, idleStopMs, recordPayloads, initializeTimeoutMs, disabled',
    ]);
  });

  it('server ids and prefixes keep to their alphabet and never contain "__"', () => {
    assert.deepEqual(problemLines({ mcpServers: { 'my server': { command: 'x' } } }), [
      ': mcpServers["my server"]: expected a server id of 1 to 32 characters from A-Z a-z 0-9 _ -, found "my server"',
    ]);
    assert.deepEqual(problemLines({ mcpServers: { a: { command: 'x', prefix: 'git__hub' } } }), [
      ': mcpServers.a.prefix: expected a prefix without "__" (the namespace separator), found "git__hub"',
    ]);
    assert.deepEqual(problemLines({ mcpServers: { a: { command: 'x', prefix: 'a.b' } } }), [
      ': mcpServers.a.prefix: expected a prefix of 0 to 32 characters from A-Z a-z 0-9 _ -, found "a.b"',
    ]);
    // The id is the default prefix, so an id with "__" needs a prefix of its own.
    assert.deepEqual(problemLines({ mcpServers: { my__srv: { command: 'x' } } }), [
      ': mcpServers.my__srv: the id contains "__" (the namespace separator), so it cannot be the prefix; set "prefix"',
    ]);
    const ok = parseConfigText(
      JSON.stringify({ mcpServers: { my__srv: { command: 'x', prefix: 'my' } } }),
      FILE,
      ENV,
    );
    assert.equal(ok.servers[0]!.prefix, 'my');
  });

  it('an unset ${VAR} without a default names the variable and the path', () => {
    const mcpServers = { gh: { command: 'x', env: { TOKEN: '${GITHUB_TOKEN}' } } };
    assert.deepEqual(problemLines({ mcpServers }), [
      ': mcpServers.gh.env.TOKEN: ${GITHUB_TOKEN} is not set in the environment; set it or give a default: ${GITHUB_TOKEN:-default}',
    ]);
    assert.deepEqual(problemLines({ mcpServers: { a: { command: '${EMPTY}' } } }, { EMPTY: '' }), [
      ': mcpServers.a.command: expected a program to run, found "${EMPTY}", which expands to ""',
    ]);
  });

  it('remote servers: Streamable HTTP by "url"; other transports and mixed entries are refused', () => {
    const mcpServers = {
      linear: { type: 'ws', url: 'wss://mcp.linear.app/ws' },
      gemini: { httpUrl: 'https://mcp.example.com/mcp' },
      odd: { type: 'carrier-pigeon', command: 'x' },
      mixed: { url: 'https://mcp.example.com/mcp', command: 'x', env: { A: 'b' } },
      headless: { type: 'http' },
      local: { command: 'x', headers: { A: 'b' } },
      notUrl: { url: 'ftp://example.com' },
    };
    assert.deepEqual(problemLines({ mcpServers }), [
      ': mcpServers.linear: "type": "ws" is not supported: remote servers are given by "url" (Streamable HTTP or, with "type": "sse", HTTP+SSE)',
      ': mcpServers.gemini: "httpUrl" is not supported: remote servers are given by "url" (Streamable HTTP or, with "type": "sse", HTTP+SSE)',
      ': mcpServers.odd.type: expected "stdio", "http" or "sse" (WebSocket servers are not supported), found "carrier-pigeon"',
      ': mcpServers.mixed.command: expected no "command" next to "url": a server is either run here (stdio) or remote (http), found "x"',
      ': mcpServers.mixed.env: expected no "env" on a remote server: it applies to stdio servers only, found an object',
      ': mcpServers.headless.url: expected the URL of the remote MCP endpoint, but it is missing',
      ': mcpServers.local.headers: expected no "headers" on a stdio server: they apply to remote servers only, found an object',
      ': mcpServers.notUrl.url: expected an http:// or https:// URL, found "ftp://example.com"',
    ]);
  });

  it('duplicate keys and "__proto__" are errors, since JSON would silently drop one', () => {
    const text = '{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}, "__proto__": {}}';
    assert.deepEqual(problemLines(text), [
      ': mcpServers.a: duplicate key; expected each key once (JSON keeps only the last)',
      ': __proto__: the key "__proto__" is not allowed',
    ]);
  });

  it('a server entry with a problem of its own is still a defined server for profiles', () => {
    const config = {
      mcpServers: { a: { command: 'x', timeoutMs: -1 } },
      profiles: { p: { servers: ['a', 'b'] } },
    };
    assert.deepEqual(problemLines(config), [
      ': mcpServers.a.timeoutMs: expected an integer from 1 to 2147483647, found -1',
      ': profiles.p.servers[1]: expected a server id defined under "mcpServers" (a), found "b"',
    ]);
  });

  it('origins are scheme://host[:port] only', () => {
    assert.deepEqual(problemLines({ allowedOrigins: ['https://app.example.com/login', '*'] }), [
      ': allowedOrigins[0]: expected an origin like "https://app.example.com" (no path), found "https://app.example.com/login"',
      ': allowedOrigins[1]: expected an origin like "https://app.example.com" (no path), found "*"',
    ]);
  });

  it('profiles: names, server ids, rule shapes, surface and renames are checked', () => {
    const config = {
      mcpServers: { a: { command: 'x' } },
      profiles: {
        'bad name': {},
        p: {
          servers: ['a', 'b'],
          tools: { allow: 'a__*', deny: [''], rename: { a__x: 'has space' } },
          prompts: { only: [] },
          toolSurface: 'tiny',
        },
      },
    };
    assert.deepEqual(problemLines(config), [
      ': profiles["bad name"]: expected a profile name of 1 to 32 characters from A-Z a-z 0-9 _ -, found "bad name"',
      ': profiles.p.tools.allow: expected an array, found "a__*"',
      ': profiles.p.tools.deny[0]: expected a non-empty string, found ""',
      ': profiles.p.tools.rename.a__x: expected a name of 1 to 64 characters from A-Z a-z 0-9 _ -, found "has space"',
      ': profiles.p.prompts.only: unknown key; expected one of: allow, deny, rename',
      ': profiles.p.toolSurface: expected "full" or "meta", found "tiny"',
      // A profile with bad fields still has its servers checked.
      ': profiles.p.servers[1]: expected a server id defined under "mcpServers" (a), found "b"',
    ]);
    assert.deepEqual(problemLines({ ...config, profiles: { p: { servers: ['a', 'b'] } } }), [
      ': profiles.p.servers[1]: expected a server id defined under "mcpServers" (a), found "b"',
    ]);
  });

  it('${token.X} needs a share: "identity" server; token secrets are checked like tokens', () => {
    const long = 'x'.repeat(16);
    const config = {
      mcpServers: {
        shared: { url: 'http://127.0.0.1:1/mcp', headers: { 'X-Key': '${token.KEY}' } },
        own: {
          command: 'x',
          args: ['--key', '${token.KEY}'],
          share: 'identity',
          env: { KEY: '${token.KEY}' },
        },
      },
      tokens: {
        a: { token: long, secrets: { KEY: '${UNSET_SECRET}' } },
        b: { token: `${long}b`, secrets: { 'bad-name': 'v' } },
      },
    };
    assert.deepEqual(problemLines(config), [
      ': tokens.b.secrets.bad-name: expected a name of letters, digits and _, found "bad-name"',
      ': tokens.a.secrets.KEY: ${UNSET_SECRET} is not set in the environment; set it to the value',
      ': mcpServers.shared.headers.X-Key: ${token.KEY} takes the calling token\'s value, so the server needs "share": "identity" (an instance per token); found "share": "global"',
      ': mcpServers.own.args[1]: ${token.…} works only in "env" (a process) or "headers" (a remote server), where each token\'s own instance gets its value',
    ]);
  });

  it('${projectDir} and ${projectName}: only a "share": "project" process takes them', () => {
    assert.deepEqual(
      problemLines({
        mcpServers: {
          shared: { command: 'git-server', args: ['--repo', '${projectDir}'] },
          remote: { url: 'https://mcp.example.com/${projectName}', share: 'project' },
          fine: { command: 'x', args: ['${projectDir}'], cwd: '${projectDir}', share: 'project' },
        },
      }),
      [
        ': mcpServers.shared.args[1]: ${projectDir} is the folder of the project a session works in, so the server needs "share": "project" (an instance per project); found "share": "global"',
        ': mcpServers.remote.url: ${projectName} works only in a process\'s "command", "args", "env" or "cwd" (a "share": "project" stdio server)',
      ],
    );
    assert.deepEqual(problemLines({ projects: { site: { dir: '/srv/site', profile: 'nope' } } }), [
      ': projects.site.profile: expected a profile defined under "profiles" (default), found "nope"',
    ]);
  });

  it('cluster: node ids keep to their alphabet, the key is long enough and never echoed', () => {
    const lines = problemLines({
      cluster: {
        node: 'Node_1',
        key: 'short-cluster-key',
        nodes: { n2: 'http://10.0.0.2:8765', 'N 3': 'http://10.0.0.3:8765' },
      },
    });
    assert.deepEqual(lines, [
      ': cluster.node: expected a node id of 1 to 16 characters from a-z 0-9 - (not starting with -), found "Node_1"',
      ': cluster.key: expected a key of at least 32 characters (e.g. from `openssl rand -hex 32`), found one of 17',
      ': cluster.nodes["N 3"]: expected a node id of 1 to 16 characters from a-z 0-9 - (not starting with -), found "N 3"',
    ]);
    assert.ok(!lines.join('\n').includes('short-cluster-key'));
    assert.deepEqual(problemLines({ cluster: { node: '${UNSET_NODE}', key: 'k'.repeat(32) } }), [
      ': cluster.node: ${UNSET_NODE} is not set in the environment; set it on every node',
    ]);
    // A Redis URL may carry a password: a wrong one is named by its scheme only.
    const redis = problemLines({
      cluster: { node: 'n1', key: 'k'.repeat(32), redis: 'http://user:hunter2@cache:6379' },
    });
    assert.deepEqual(redis, [
      ': cluster.redis: expected a redis:// or rediss:// URL, found one starting "http"',
    ]);
    const good = { node: 'n1', key: 'k'.repeat(32), redis: 'rediss://:${PW}@cache:6379/2' };
    const parsed = parseConfigText(JSON.stringify({ cluster: good }), FILE, { ...ENV, PW: 'pw' });
    assert.equal(parsed.cluster?.redis, 'rediss://:pw@cache:6379/2');
  });

  it('tokens: unknown profiles, short and shared tokens, unset variables; never the secret', () => {
    const long = 'x'.repeat(16);
    const config = {
      profiles: { dev: {} },
      tokens: {
        a: { token: long, profile: 'ops' },
        b: { token: 'short-secret' },
        c: { token: long, profile: 'dev' },
        d: { token: '${UNSET_TOKEN}' },
        e: { token: 12345678901234567 },
      },
    };
    const lines = problemLines(config);
    assert.deepEqual(lines, [
      ': tokens.e.token: expected a string, found an integer',
      ': tokens.a.profile: expected a profile defined under "profiles" (default, dev), found "ops"',
      ': tokens.b.token: expected a token of at least 16 characters (e.g. from `openssl rand -hex 32`), found one of 12',
      ': tokens.c.token: expected a token of its own, found the same one as tokens.a; a token selects one profile',
      ': tokens.d.token: ${UNSET_TOKEN} is not set in the environment; set it to the token',
    ]);
    assert.ok(!lines.join('\n').includes('short-secret'));
    assert.deepEqual(problemLines({ requireToken: true }), [
      ': requireToken: expected at least one entry under "tokens" (or "oauth") when requireToken is true (otherwise no request could be served); add a token or set requireToken to false',
    ]);
  });

  it('oauth: URLs, rule shapes and profiles are checked; OAuth alone serves requireToken', () => {
    assert.deepEqual(
      problemLines({
        profiles: { dev: {} },
        oauth: {
          issuer: 'login.example.com',
          profiles: [
            { claim: 'groups', value: 'ops', profile: 'ops' },
            { claim: '', value: 'x', profile: 'dev' },
          ],
          defaultProfile: 'nobody',
        },
      }),
      [
        ': oauth.issuer: expected an http:// or https:// URL, found "login.example.com"',
        ': oauth.profiles[1].claim: expected a non-empty string, found ""',
      ],
    );
    assert.deepEqual(
      problemLines({
        profiles: { dev: {} },
        oauth: {
          issuer: 'https://login.example.com',
          profiles: [{ claim: 'groups', value: 'ops', profile: 'ops' }],
          defaultProfile: 'nobody',
        },
      }),
      [
        ': oauth.profiles[0].profile: expected a profile defined under "profiles" (default, dev), found "ops"',
        ': oauth.defaultProfile: expected a profile defined under "profiles" (default, dev), found "nobody"',
      ],
    );
    const alone = { requireToken: true, oauth: { issuer: 'https://login.example.com' } };
    assert.equal(parseConfigText(JSON.stringify(alone), FILE, ENV).requireToken, true);
  });

  it('reports every problem at once, schema and semantic ones together', () => {
    const config = {
      mcpServers: {
        github: { command: 'npx', args: ['-y', 42], timout: 1000 },
        fs: { command: 'node', args: ['${FS_ROOT}'] },
        web: { url: 'https://example.com/mcp', args: [] },
      },
      listen: { port: 70000 },
      workers: 0,
    };
    const error = errorOf(() => parseConfigText(JSON.stringify(config, null, 2), FILE, ENV));
    assert.equal(
      error.message,
      [
        `Invalid config ${FILE} (6 problems):`,
        `  ${FILE}: mcpServers.github.args[1]: expected a string, found 42`,
        `  ${FILE}: mcpServers.github.timout: unknown key; did you mean "timeoutMs"?`,
        `  ${FILE}: mcpServers.web.args: expected no "args" on a remote server: it applies to stdio servers only, found an array`,
        `  ${FILE}: listen.port: expected an integer from 0 to 65535, found 70000`,
        `  ${FILE}: workers: expected an integer of at least 1, found 0`,
        `  ${FILE}: mcpServers.fs.args[0]: \${FS_ROOT} is not set in the environment; set it or give a default: \${FS_ROOT:-default}`,
      ].join('\n'),
    );
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.file, FILE);
    assert.deepEqual(error.problems[0], {
      path: 'mcpServers.github.args[1]',
      message: 'expected a string, found 42',
    });
  });
});

describe('loadConfig errors', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcp-director-config-errors-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const missing = path.join(root, 'missing.json');
  const messageOf = (options: LoadConfigOptions) => errorOf(() => loadConfig(options)).message;

  it('a missing explicit file is an error naming its path', () => {
    assert.equal(
      messageOf({ configPath: missing, env: ENV }),
      `Invalid config ${missing} (1 problem):\n  ${missing}: the config file does not exist`,
    );
    assert.equal(
      messageOf({ env: { ...ENV, MCP_DIRECTOR_CONFIG: missing } }),
      `Invalid config ${missing} (1 problem):\n  ${missing}: the config file does not exist (named by MCP_DIRECTOR_CONFIG)`,
    );
  });

  it('a folder is not a config file', () => {
    assert.equal(
      messageOf({ configPath: root, env: ENV }),
      `Invalid config ${root} (1 problem):\n  ${root}: expected a config file, found a folder`,
    );
  });

  it('bad overrides are reported as command-line problems, all at once', () => {
    const overrides = { port: 70000, host: '', workers: 1.5, dataDir: 'ok' };
    assert.equal(
      messageOf({ configPath: missing, overrides }),
      [
        'Invalid config <command line> (3 problems):',
        '  <command line>: --port: expected an integer from 0 to 65535, found 70000',
        '  <command line>: --host: expected a non-empty string, found ""',
        '  <command line>: --workers: expected an integer of at least 1, found 1.5',
      ].join('\n'),
    );
  });
});

describe('closestKey', () => {
  it('suggests keys one typo away, swapped letters, other case, or a fragment', () => {
    const known = ['mcpServers', 'listen', 'workers', 'timeoutMs', 'env'];
    assert.equal(closestKey('listn', known), 'listen');
    assert.equal(closestKey('workres', known), 'workers');
    assert.equal(closestKey('MCPServers', known), 'mcpServers');
    assert.equal(closestKey('timeout', known), 'timeoutMs');
    assert.equal(closestKey('timout', known), 'timeoutMs');
    assert.equal(closestKey('servers', known), 'mcpServers');
    assert.equal(closestKey('autoApprove', known), undefined);
    assert.equal(closestKey('envFile', known), undefined);
    assert.equal(closestKey('en', known), 'env');
  });
});
