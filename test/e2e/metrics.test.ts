/**
 * `/metrics` as Prometheus sees it: calls made by an SDK client counted exactly by server,
 * method, tool and outcome (the shards' counts, about once a second), backend states and
 * sessions; the text passes `promtool check metrics`, and a real Prometheus server (Debian's
 * `prometheus`, installed by .ci/run) scrapes it. With tokens, only an admin token reads it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { eventually, fixture, freePort, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

const ADMIN = 'metrics-admin-token-0123456789ab';
const USER = 'metrics-user-token-0123456789abc';
const CALLS = 25;

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

async function scrape(daemon: Daemon, token = ADMIN): Promise<{ status: number; text: string }> {
  const response = await fetch(`${daemon.base}/metrics`, { headers: bearer(token) });
  return { status: response.status, text: await response.text() };
}

/** The value of one sample line, e.g. `name{a="b"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const OK_SERIES =
  'mcp_director_calls_total{server="echo",method="tools/call",tool="echo",outcome="ok"}';
const COUNT_SERIES =
  'mcp_director_call_duration_seconds_count{server="echo",method="tools/call",tool="echo"}';

describe('/metrics', () => {
  let daemon: Daemon;
  let client: Client;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: { echo: fixture('echo-server') },
      tokens: {
        ops: { token: ADMIN, admin: true },
        user: { token: USER },
      },
    });
    client = new Client({ name: 'metrics-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(daemon.url), {
        requestInit: { headers: bearer(USER) },
      }),
    );
    for (let i = 0; i < CALLS; i++) {
      await client.callTool({ name: 'echo__echo', arguments: { text: `call ${i}` } });
    }
  });
  after(async () => {
    await client.close();
    await daemon.stop();
  });

  test('counts the calls exactly, with their latency, the backend state and the session', async () => {
    const text = await eventually(
      async () => {
        const { status, text } = await scrape(daemon);
        assert.equal(status, 200);
        return sample(text, OK_SERIES) === CALLS ? text : undefined;
      },
      10_000,
      `${CALLS} calls in /metrics`,
    );
    assert.equal(sample(text, COUNT_SERIES), CALLS);
    const inf = sample(
      text,
      'mcp_director_call_duration_seconds_bucket{server="echo",method="tools/call",tool="echo",le="+Inf"}',
    );
    assert.equal(inf, CALLS);
    const sum = sample(
      text,
      'mcp_director_call_duration_seconds_sum{server="echo",method="tools/call",tool="echo"}',
    );
    assert.ok(sum !== undefined && sum > 0 && sum < CALLS * 5, `sum ${sum}`);
    assert.equal(sample(text, 'mcp_director_backend_state{server="echo",state="ready"}'), 1);
    assert.equal(sample(text, 'mcp_director_backend_state{server="echo",state="failed"}'), 0);
    assert.equal(sample(text, 'mcp_director_backend_restarts{server="echo"}'), 0);
    assert.equal(
      sample(
        text,
        'mcp_director_sessions{era="legacy",protocol_version="2025-11-25",transport="streamable-http"}',
      ),
      1,
    );
    assert.ok(sample(text, 'mcp_director_shard_pending_calls{shard="0"}') !== undefined);
    assert.match(text, /^mcp_director_nodejs_eventloop_lag_seconds \d/m);
    assert.match(text, /^mcp_director_process_cpu_seconds_total \d/m);
  });

  test('/api/servers shows calls per second and the era; /api/sessions the transport', async () => {
    const api = async (path: string) =>
      (await (await fetch(`${daemon.base}${path}`, { headers: bearer(ADMIN) })).json()) as {
        servers?: { id: string; callsPerSecond: number; era: string }[];
        sessions?: { era: string; transport: string; client: { name: string } }[];
      };
    const [echo] = (await api('/api/servers')).servers!;
    assert.equal(echo!.id, 'echo');
    assert.equal(echo!.era, 'legacy');
    // 25 calls counted within the last 10 s: 2.5 calls/s (the counts may trail by a second).
    assert.ok(
      echo!.callsPerSecond > 0 && echo!.callsPerSecond <= CALLS / 10,
      `${echo!.callsPerSecond}`,
    );
    const sessions = (await api('/api/sessions')).sessions!;
    assert.deepEqual(
      sessions.map((s) => `${s.client.name} ${s.era} ${s.transport}`),
      ['metrics-test legacy streamable-http'],
    );
  });

  test('passes promtool check metrics', async () => {
    const { text } = await scrape(daemon);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool runs (Debian package prometheus)');
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });

  test('only an admin token reads it when tokens are configured', async () => {
    assert.equal((await scrape(daemon, USER)).status, 403);
    const anonymous = await fetch(`${daemon.base}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.equal((await scrape(daemon, ADMIN)).status, 200);
  });

  test('a real Prometheus server scrapes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-prometheus-'));
    const port = await freePort();
    writeFileSync(join(dir, 'token'), ADMIN);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: director',
        `    authorization: { credentials_file: ${join(dir, 'token')} }`,
        `    static_configs: [{ targets: ['127.0.0.1:${daemon.port}'] }]`,
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const query = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(OK_SERIES)}`;
      const value = await eventually(
        async () => {
          try {
            const body = (await (await fetch(query)).json()) as {
              data?: { result?: { value: [number, string] }[] };
            };
            return body.data?.result?.[0]?.value[1];
          } catch {
            return undefined; // not up yet
          }
        },
        30_000,
        'Prometheus to scrape the daemon',
      );
      assert.equal(Number(value), CALLS);
    } finally {
      prometheus.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
