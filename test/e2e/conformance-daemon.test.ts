/**
 * The official MCP conformance suite (server mode, 2025-11-25 requirements) against MCP
 * Director fronting the project's conformance fixture as a stdio backend with an empty
 * prefix, so the suite's literal tool, prompt and resource names reach the backend.
 *
 * Scenarios that need server-to-client requests (sampling, elicitation) are expected to
 * fail until the router forwards those; the suite's own baseline flags them if they pass.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REQUIRED_SERVER_SCENARIOS,
  SCENARIOS_NEEDING_CLIENT_REQUESTS,
  runConformance,
} from '../helpers/conformance.js';
import { fixture, startDaemon } from '../helpers/daemon.js';
import type { Daemon } from '../helpers/daemon.js';

describe('conformance suite through MCP Director', () => {
  let daemon: Daemon;
  before(async () => {
    daemon = await startDaemon({
      mcpServers: { everything: fixture('conformance-server', [], { prefix: '' }) },
    });
  });
  after(async () => {
    await daemon?.stop();
  });

  test(
    'every scored 2025-11-25 scenario that needs no server-to-client request passes',
    { timeout: 300_000 },
    async (t) => {
      const run = await runConformance({
        url: daemon.url,
        requirements: '2025-11-25',
        expectedFailures: SCENARIOS_NEEDING_CLIENT_REQUESTS,
        timeoutMs: 280_000,
      });
      t.diagnostic(`passed ${run.passed.length}: ${run.passed.join(', ')}`);
      t.diagnostic(`failed ${run.failed.length}: ${run.failed.map((f) => f.scenario).join(', ')}`);
      t.diagnostic(
        `not scored: ${run.notScored.map((s) => `${s.scenario}${s.failed ? ' (failed)' : ''}`).join(', ')}`,
      );
      const detail = JSON.stringify(
        { failed: run.failed, missing: run.missing, unexpectedPasses: run.unexpectedPasses },
        null,
        2,
      );
      assert.deepEqual(run.unexpectedFailures, [], detail);
      assert.deepEqual(run.missing, [], detail);
      const expectedPasses = REQUIRED_SERVER_SCENARIOS['2025-11-25'].filter(
        (s) => !SCENARIOS_NEEDING_CLIENT_REQUESTS.includes(s),
      );
      assert.deepEqual(
        [...run.passed].filter((s) => expectedPasses.includes(s)).sort(),
        [...expectedPasses].sort(),
        detail,
      );
    },
  );
});
