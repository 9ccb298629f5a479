/**
 * `mcp-director servers` and `mcp-director tools [--profile]` against a running daemon, run
 * as a user runs them; a daemon that is not there, or that wants a token, is one line and
 * exit code 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

const TOKEN = 'inspect-token-0123456789abcdef';
const ADMIN = 'inspect-admin-token-0123456789';

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, MCP_DIRECTOR_URL: '', MCP_DIRECTOR_TOKEN: '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('servers and tools', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: { small: { servers: ['beta'], tools: { allow: ['beta__echo', 'beta__add'] } } },
      tokens: {
        ops: { token: TOKEN, profile: 'small' },
        root: { token: ADMIN, profile: 'small', admin: true },
      },
    });
  });
  after(() => daemon.stop());

  test('servers prints one row per server with its state', () => {
    const { code, stdout } = run(['servers', '--url', daemon.base]);
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0]!, /^SERVER\s+STATE\s+TRANSPORT\s+TOOLS/);
    assert.match(lines[1]!, /^alpha\s+ready\s+stdio\s+\d+/);
    assert.match(lines[2]!, /^beta\s+ready\s+stdio\s+\d+/);
    const json = JSON.parse(run(['servers', '--url', daemon.base, '--json']).stdout) as {
      servers: { id: string }[];
    };
    assert.deepEqual(
      json.servers.map((s) => s.id),
      ['alpha', 'beta'],
    );
  });

  test('--url takes the URL the daemon prints (…/mcp, …/mcp/<profile>) as well as its base', () => {
    const servers = run(['servers', '--url', daemon.url]);
    assert.equal(servers.code, 0, servers.stderr);
    assert.match(servers.stdout, /^alpha\s+ready/m);
    const viaEnv = run(['servers'], { MCP_DIRECTOR_URL: `${daemon.url}/` });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    // A profile URL names the profile `tools` shows.
    const small = run(['tools', '--url', `${daemon.url}/small`], { MCP_DIRECTOR_TOKEN: ADMIN });
    assert.equal(small.code, 0, small.stderr);
    assert.match(small.stdout, /2 tools in profile 'small'/);
  });

  test("tools shows a profile's view: by --profile (admin token), or the token's", () => {
    const all = run(['tools', '--url', daemon.base]);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /^alpha__echo\s+alpha\s+/m);
    const admin = { MCP_DIRECTOR_TOKEN: ADMIN };
    const small = run(['tools', '--url', daemon.base, '--profile', 'small'], admin);
    assert.deepEqual(
      small.stdout
        .trim()
        .split('\n')
        .slice(1, -1)
        .map((l) => l.split(/\s+/)[0]),
      ['beta__echo', 'beta__add'],
    );
    assert.match(small.stdout, /2 tools in profile 'small'/);
    const byToken = run(['tools', '--url', daemon.base], { MCP_DIRECTOR_TOKEN: TOKEN });
    assert.match(byToken.stdout, /2 tools in profile 'small'/);
    // Without a token: the default profile's view only, as /mcp would give it.
    const other = run(['tools', '--url', daemon.base, '--profile', 'small']);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /sees profile 'default' only, not 'small'/);
    const unknown = run(['tools', '--url', daemon.base, '--profile', 'nope'], admin);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^mcp-director: Unknown profile 'nope'; profiles: default, small\n$/,
    );
  });
});

test('a daemon that is not running is one line and exit code 1', () => {
  const { code, stderr, stdout } = run(['servers', '--url', 'http://127.0.0.1:47']);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.match(
    stderr,
    /^mcp-director: MCP Director is not running at http:\/\/127\.0\.0\.1:47 \(ECONNREFUSED\); start it with: mcp-director serve\n$/,
  );
});

test('a daemon that requires a token says so; the token is never printed', async () => {
  const daemon = await startDaemon({
    mcpServers: { alpha: fixture('echo-server') },
    tokens: { ops: { token: TOKEN } },
    requireToken: true,
  });
  try {
    const refused = run(['servers', '--url', daemon.base]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /requires a token.*\(pass --token\)\n$/);
    const allowed = run(['servers', '--url', daemon.base, '--token', TOKEN]);
    assert.equal(allowed.code, 0);
    assert.ok(!allowed.stdout.includes(TOKEN) && !daemon.stderr().includes(TOKEN));
    const help = run(['tools', '--help'], { MCP_DIRECTOR_TOKEN: TOKEN });
    assert.equal(help.code, 0);
    assert.ok(!help.stdout.includes(TOKEN));
  } finally {
    await daemon.stop();
  }
});
