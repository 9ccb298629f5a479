/**
 * The official MCP conformance suite (server mode, 2025-11-25 requirements) against MCP
 * Director fronting the project's conformance fixture as a stdio backend with an empty
 * prefix, so the suite's literal tool, prompt and resource names reach the backend.
 *
 * Every scored scenario must pass, those with server-to-client requests (sampling,
 * elicitation) included: the router sends them to the client whose call caused them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REQUIRED_SERVER_SCENARIOS, runConformance } from '../helpers/conformance.js';
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

  test('every scored 2025-11-25 scenario passes', { timeout: 300_000 }, async (t) => {
    const run = await runConformance({
      url: daemon.url,
      requirements: '2025-11-25',
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
    assert.deepEqual(run.failed, [], detail);
    assert.deepEqual(
      [...run.passed].sort(),
      [...REQUIRED_SERVER_SCENARIOS['2025-11-25']].sort(),
      detail,
    );
  });
});
