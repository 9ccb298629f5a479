/**
 * The daemon's Node options (src/cli/node-flags.ts) are named in three places that cannot
 * import them: the command's shebang line and `npm start`. Both must name exactly them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../../../src/cli/node-flags.js';
import { CLI, REPO_ROOT } from '../../helpers/daemon.js';

test('the command’s shebang passes NODE_FLAGS to node', () => {
  const firstLine = readFileSync(CLI, 'utf8').split('\n')[0];
  assert.equal(firstLine, `#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
});

test('npm start runs the daemon with NODE_FLAGS', () => {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.ok(
    scripts['start']?.includes(`node ${NODE_FLAGS.join(' ')} dist/src/cli/main.js serve`),
    scripts['start'],
  );
});
