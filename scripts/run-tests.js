#!/usr/bin/env node
/**
 * `npm test`'s runner, after the build and lint: runs the compiled copy of every test file
 * under test/ (found from the sources, so the output of a test that was moved or deleted,
 * which `tsc` leaves in dist/, never runs), several files at a time.
 *
 *   node scripts/run-tests.js [folder under test/ …]
 *
 * Every test listens on port 0 and works in its own temporary folder, so files are
 * independent and run in parallel: `TEST_CONCURRENCY` of them at once (default 2, the
 * machine's cores as measured in docs/architecture.md#test-layout; 1 runs them one by one).
 * Those folders are made under one folder of this run (`TMPDIR`), removed when the run ends:
 * a daemon's folder outlives its stop, because tests read what it left.
 *
 * Plain JavaScript so that it needs nothing compiled to start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function testSources(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return testSources(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const folders = process.argv.slice(2);
const sources = (folders.length === 0 ? ['test'] : folders.map((f) => path.join('test', f)))
  .flatMap((folder) => testSources(path.join(root, folder)))
  .sort();
if (sources.length === 0) {
  process.stderr.write(`no test files under ${folders.join(', ')}\n`);
  process.exit(1);
}
const compiled = sources.map((file) =>
  path.join(root, 'dist', path.relative(root, file)).replace(/\.ts$/, '.js'),
);
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(
    `TEST_CONCURRENCY must be a whole number ≥ 1, not '${process.env.TEST_CONCURRENCY}'\n`,
  );
  process.exit(1);
}
const scratch = mkdtempSync(path.join(tmpdir(), 'mcpd-tests-'));
const run = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...compiled],
  { stdio: 'inherit', env: { ...process.env, TMPDIR: scratch } },
);
rmSync(scratch, { recursive: true, force: true });
process.exit(run.status ?? 1);
