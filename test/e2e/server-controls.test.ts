/**
 * An admin restarts, stops and starts one backend through `POST /api/servers/<name>/<action>`
 * (README "Dashboard"): the restart really replaces the process (a new pid, restarts + 1),
 * stop takes its tools away until start brings them back, and the state changes reach
 * `/api/servers` and `/api/events`. A profile token is refused (403), so is a request without
 * a token where tokens exist (it gets the default profile's view), a wrong token is 401, an
 * unknown server 404 naming the known ones, a GET 405, a form-encoded POST 415; every other
 * `/api` path stays GET-only. Without any token in the config a local caller may act (as it
 * may use everything else), but never with a body a cross-site page could send without a
 * preflight. `POST /api/tools/call` calls a tool through the relay, and
 * `mcp-director servers restart <name>` does what the endpoint does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, eventually, fixture, startDaemon, alive } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';
import { EventReader } from '../helpers/sse-session.js';

const ADMIN = 'admin-token-for-the-controls-0123';
const ALICE = 'alice-token-for-profile-a-012345';

const run = promisify(execFile);

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
const json = { 'Content-Type': 'application/json' };

interface ServerRow {
  id: string;
  state: string;
  pid?: number;
  restarts: number;
  counts?: { tools: number };
}

describe('server controls over /api', () => {
  let daemon: Daemon;

  before(async () => {
    daemon = await startDaemon({
      mcpServers: {
        alpha: fixture('echo-server', ['--label', 'alpha']),
        beta: fixture('echo-server', ['--label', 'beta']),
      },
      profiles: { a: { servers: ['alpha'] }, ops: {} },
      tokens: {
        alice: { token: ALICE, profile: 'a' },
        root: { token: ADMIN, profile: 'ops', admin: true },
      },
    });
  });
  after(() => daemon.stop());

  const post = (path: string, headers: Record<string, string>, body = '{}'): Promise<Response> =>
    fetch(`${daemon.base}${path}`, { method: 'POST', headers, body });

  async function server(id: string): Promise<ServerRow> {
    const response = await fetch(`${daemon.base}/api/servers`, { headers: bearer(ADMIN) });
    const { servers } = (await response.json()) as { servers: ServerRow[] };
    const row = servers.find((s) => s.id === id);
    assert.ok(row, `server ${id} listed`);
    return row;
  }

  test('restart replaces the process: a new pid, restarts + 1, ready again, seen live', async () => {
    const before = await server('alpha');
    assert.equal(before.state, 'ready');
    const oldPid = before.pid;
    assert.ok(oldPid !== undefined && alive(oldPid));
    const abort = new AbortController();
    const events = new EventReader(
      await fetch(`${daemon.base}/api/events`, { headers: bearer(ADMIN), signal: abort.signal }),
      abort,
    );
    try {
      const response = await post('/api/servers/alpha/restart', { ...bearer(ADMIN), ...json });
      assert.equal(response.status, 202, await response.clone().text());
      assert.deepEqual(((await response.json()) as { action: string }).action, 'restart');
      const after = await eventually(
        async () => {
          const row = await server('alpha');
          return row.state === 'ready' && row.pid !== oldPid ? row : undefined;
        },
        10_000,
        'alpha ready with a new pid',
      );
      assert.equal(after.restarts, before.restarts + 1);
      assert.equal(alive(oldPid), false, 'the old process is gone');
      const states = await eventually(() => {
        const seen = events.events
          .filter((e) => e.event === 'server')
          .map((e) => JSON.parse(e.data) as { server: string; state: string })
          .filter((e) => e.server === 'alpha')
          .map((e) => e.state);
        return seen.includes('restarting') && seen.at(-1) === 'ready' ? seen : undefined;
      });
      assert.ok(states.includes('restarting'), states.join());
    } finally {
      events.abort();
    }
  });

  test('stop takes the server down and keeps it down; start brings its tools back', async () => {
    const stop = await post('/api/servers/beta/stop', { ...bearer(ADMIN), ...json });
    assert.equal(stop.status, 202);
    const stopped = await eventually(async () => {
      const row = await server('beta');
      return row.state === 'stopped' ? row : undefined;
    });
    assert.equal(stopped.pid, undefined);
    await new Promise((resolve) => setTimeout(resolve, 600)); // past the first restart delay
    assert.equal((await server('beta')).state, 'stopped', 'not restarted by the supervision');
    const start = await post('/api/servers/beta/start', { ...bearer(ADMIN), ...json }, '');
    assert.equal(start.status, 202);
    const started = await eventually(async () => {
      const row = await server('beta');
      return row.state === 'ready' && row.counts !== undefined ? row : undefined;
    }, 10_000);
    assert.ok(started.pid !== undefined && alive(started.pid));
    assert.ok((started.counts?.tools ?? 0) > 0, 'its tools are listed again');
  });

  test('a profile token is 403, no token 403 (the default profile), a wrong one 401: nothing happens', async () => {
    const pid = (await server('alpha')).pid;
    const profile = await post('/api/servers/alpha/restart', { ...bearer(ALICE), ...json });
    assert.equal(profile.status, 403);
    assert.match(((await profile.json()) as { error: string }).error, /admin token/);
    // Without a token a request gets the default profile's view (access.ts): not an admin.
    const anonymous = await post('/api/servers/alpha/restart', json);
    assert.equal(anonymous.status, 403);
    const wrong = await post('/api/servers/alpha/stop', { ...bearer('not-a-token'), ...json });
    assert.equal(wrong.status, 401);
    assert.ok(wrong.headers.get('www-authenticate')?.startsWith('Bearer'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const row = await server('alpha');
    assert.equal(row.pid, pid);
    assert.equal(row.state, 'ready');
  });

  test('bad requests get a status and a message that says what is wrong', async () => {
    const unknown = await post('/api/servers/nope/restart', { ...bearer(ADMIN), ...json });
    assert.equal(unknown.status, 404);
    assert.match(
      ((await unknown.json()) as { error: string }).error,
      /No server named 'nope'.*'alpha', 'beta'/,
    );
    // A name from Object.prototype is just an unknown name.
    const proto = await post('/api/servers/__proto__/stop', { ...bearer(ADMIN), ...json });
    assert.equal(proto.status, 404);
    const encoded = await post('/api/servers/%E0%A4%A/start', { ...bearer(ADMIN), ...json });
    assert.equal(encoded.status, 400);
    const form = await post('/api/servers/alpha/restart', {
      ...bearer(ADMIN),
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    assert.equal(form.status, 415, 'a cross-site form cannot act');
    const notJson = await post('/api/servers/alpha/restart', { ...bearer(ADMIN), ...json }, '[1]');
    assert.equal(notJson.status, 400);
    const get = await fetch(`${daemon.base}/api/servers/alpha/restart`, { headers: bearer(ADMIN) });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const readOnly = await post('/api/servers', { ...bearer(ADMIN), ...json });
    assert.equal(readOnly.status, 405);
    assert.equal(readOnly.headers.get('allow'), 'GET');
    const foreign = await post('/api/servers/alpha/restart', {
      ...bearer(ADMIN),
      ...json,
      Origin: 'https://evil.example',
    });
    assert.equal(foreign.status, 403);
  });

  test('POST /api/tools/call calls a tool of a profile through the relay', async () => {
    const response = await post(
      '/api/tools/call',
      { ...bearer(ADMIN), ...json },
      JSON.stringify({
        profile: 'a',
        tool: 'alpha__echo',
        arguments: { text: 'hello from the form' },
      }),
    );
    const text = await response.clone().text();
    assert.equal(response.status, 200, text);
    const body = (await response.json()) as {
      result?: { content: Array<{ text: string }> };
    };
    assert.match(JSON.stringify(body.result?.content), /hello from the form/, text);
    const missing = await post(
      '/api/tools/call',
      { ...bearer(ADMIN), ...json },
      JSON.stringify({ profile: 'a', tool: 'no_such_tool' }),
    );
    const error = (await missing.json()) as { error?: { message: string } };
    assert.ok(error.error, 'an unknown tool is a JSON-RPC error');
    const badProfile = await post(
      '/api/tools/call',
      { ...bearer(ADMIN), ...json },
      JSON.stringify({ profile: 'zzz', tool: 'alpha__echo' }),
    );
    assert.equal(badProfile.status, 404);
    const asProfile = await post(
      '/api/tools/call',
      { ...bearer(ALICE), ...json },
      JSON.stringify({ tool: 'alpha__echo', arguments: { text: 'x' } }),
    );
    assert.equal(asProfile.status, 403);
  });

  test('mcp-director servers restart <name>: the same, from the command line', async () => {
    const before = await server('alpha');
    const cli = (...args: string[]) =>
      run(process.execPath, [CLI, 'servers', ...args, '--url', daemon.url, '--token', ADMIN]);
    const { stdout } = await cli('restart', 'alpha');
    assert.match(stdout, /asked the daemon to restart server 'alpha'/);
    await eventually(
      async () => {
        const row = await server('alpha');
        return row.state === 'ready' && row.pid !== before.pid ? row : undefined;
      },
      10_000,
      'alpha restarted by the CLI',
    );
    const unknown = await cli('stop', 'nope').then(
      () => assert.fail('an unknown server must fail'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No server named 'nope'/);
  });
});

describe('server controls without any token in the config', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({ mcpServers: { alpha: fixture('echo-server') } });
  });
  after(() => daemon.stop());

  test('a local caller may act (it may use everything anyway); a cross-site form may not', async () => {
    const restart = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${daemon.base}/api/servers/alpha/restart`, { method: 'POST', headers, body: '{}' });
    // What a page of another local origin can send without a CORS preflight: refused.
    const simple = await restart({ 'Content-Type': 'text/plain', Origin: 'http://localhost:9' });
    assert.equal(simple.status, 415);
    const form = await restart({ 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const local = await restart(json);
    assert.equal(local.status, 202, await local.clone().text());
    await eventually(
      async () => {
        const response = await fetch(`${daemon.base}/api/servers`);
        const { servers } = (await response.json()) as { servers: ServerRow[] };
        const alpha = servers.find((s) => s.id === 'alpha');
        return alpha?.restarts === 1 && alpha.state === 'ready' ? alpha : undefined;
      },
      10_000,
      'alpha restarted',
    );
  });
});
