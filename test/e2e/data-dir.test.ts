/**
 * A data folder the daemon cannot use (`--data-dir` or "dataDir"): one line naming the
 * folder and both settings, exit code 1, at once — never a stack trace or a daemon that
 * spins without listening.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../helpers/daemon.js';

function serve(dataDir: string) {
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    [CLI, 'serve', '--no-stdio', '--port', '0', '--data-dir', dataDir],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return { ...result, ms: Date.now() - started };
}

test('a data folder under a file, or where nothing can be created, is one line and exit 1', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mcpd-datadir-')), 'a-file');
  writeFileSync(file, 'not a folder');
  for (const dataDir of [join(file, 'data'), '/proc/mcp-director-test/data']) {
    const { status, stderr, ms } = serve(dataDir);
    assert.equal(status, 1, `${dataDir}: ${stderr}`);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, new RegExp(`cannot use the data folder ${dataDir} \\(E[A-Z]+\\)`));
    assert.match(stderr, /"dataDir" in the config or --data-dir/);
    assert.ok(ms < 15_000, `answered in ${ms} ms`);
  }
});
