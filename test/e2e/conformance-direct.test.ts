/**
 * The session-era conformance fixture (SDK v1), served directly over Streamable HTTP (no
 * router), passes every scenario the official suite runs for the 2025-11-25 requirements. This
 * proves the fixture, so that when the same run goes through MCP Director any failure is the
 * router's.
 *
 * Needs the npm registry (or a warm npm cache) to fetch the suite and Node 22; see
 * test/helpers/conformance.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { assertScoredPass, runConformance, summarize } from '../helpers/conformance.js';
import { startHttpFixture, type HttpFixture } from '../helpers/http-fixture.js';

describe('conformance suite directly against the conformance fixture', () => {
  let fixture: HttpFixture | undefined;

  before(async () => {
    fixture = await startHttpFixture('serve-http.js', ['--server', 'conformance', '--resumable']);
  });

  after(async () => {
    await fixture?.stop();
  });

  it(
    'passes every scored 2025-11-25 scenario, and the unscored ones',
    { timeout: 300_000 },
    async (t) => {
      const url = fixture?.url ?? '';
      const run = await runConformance({ url, requirements: '2025-11-25', timeoutMs: 280_000 });
      t.diagnostic(summarize('2025-11-25', run));
      assertScoredPass('2025-11-25', run);
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
