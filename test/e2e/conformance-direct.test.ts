/**
 * The conformance fixture, served directly over Streamable HTTP (no router), passes every scenario
 * the official suite runs for the 2025-11-25 requirements. This proves the fixture, so that when
 * the same run goes through MCP Director any failure is the router's.
 *
 * Needs the npm registry (or a warm npm cache) to fetch the suite and Node 22; see
 * test/helpers/conformance.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { REQUIRED_SERVER_SCENARIOS, runConformance } from '../helpers/conformance.js';

const serveHttp = fileURLToPath(new URL('../fixtures/serve-http.js', import.meta.url));

describe('conformance suite directly against the conformance fixture', () => {
  let server: ChildProcessByStdio<null, Readable, null> | undefined;
  let url = '';

  before(async () => {
    const child = spawn(process.execPath, [serveHttp, '--server', 'conformance', '--resumable'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    server = child;
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const match = /^listening (\S+)$/m.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) =>
        reject(new Error(`serve-http exited (${String(code)}) before listening: ${out}`)),
      );
    });
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
  });

  it(
    'passes every scored 2025-11-25 scenario, and the unscored ones',
    { timeout: 300_000 },
    async () => {
      const run = await runConformance({ url, requirements: '2025-11-25', timeoutMs: 280_000 });
      const detail = JSON.stringify({ failed: run.failed, missing: run.missing }, null, 2);
      assert.deepEqual(run.failed, [], detail);
      assert.deepEqual(run.missing, [], detail);
      assert.deepEqual([...run.passed].sort(), [...REQUIRED_SERVER_SCENARIOS['2025-11-25']].sort());
      // Pending or newer scenarios (session lifecycle, JSON Schema 2020-12, SSE polling) run too.
      assert.ok(run.notScored.length > 0);
      assert.deepEqual(
        run.notScored
          .filter((s) => s.failed)
          .map((s) => ({ scenario: s.scenario, checks: s.checks })),
        [],
      );
      assert.equal(run.raw.exitCode, 0);
    },
  );
});
