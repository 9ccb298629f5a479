/**
 * The architecture's import rules, checked on the sources (lint enforces them too; this
 * is the backstop that cannot be switched off by a disable comment): supervisor and
 * workers share only src/shared, and each third-party surface stays in its adapter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '../helpers/daemon.js';

const SRC = join(REPO_ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

const imports = sources(SRC).map((file) => ({
  file: relative(SRC, file),
  specifiers: [
    ...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1] ?? ''),
}));

function violations(
  inDir: (file: string) => boolean,
  forbidden: (specifier: string) => boolean,
): string[] {
  return imports
    .filter(({ file }) => inDir(file))
    .flatMap(({ file, specifiers }) =>
      specifiers.filter(forbidden).map((s) => `${file} imports ${s}`),
    );
}

test('the supervisor never imports the workers, nor the workers the supervisor', () => {
  assert.deepEqual(
    violations(
      (f) => f.startsWith('supervisor/'),
      (s) => s.includes('/workers/'),
    ),
    [],
  );
  assert.deepEqual(
    violations(
      (f) => f.startsWith('workers/'),
      (s) => s.includes('/supervisor/') || s.includes('/cli/'),
    ),
    [],
  );
});

test('shared imports nothing from supervisor, workers or cli', () => {
  assert.deepEqual(
    violations(
      (f) => f.startsWith('shared/'),
      (s) => /\/(supervisor|workers|cli)\//.test(s),
    ),
    [],
  );
});

test('third-party surfaces stay behind their adapters', () => {
  assert.deepEqual(
    violations(
      (f) => f !== 'shared/analytics/store.ts',
      (s) => s === 'lmdb',
    ),
    [],
  );
  assert.deepEqual(
    violations(
      (f) => f !== 'supervisor/ingress/uws.ts',
      (s) => !s.startsWith('.') && (s.includes('uws') || s.includes('uwebsockets')),
    ),
    [],
  );
  assert.deepEqual(
    violations(
      (f) => f !== 'supervisor/pool/shard-lifecycle.ts',
      (s) => s === 'piscina',
    ),
    [],
  );
});

test('the scan sees the imports it checks', () => {
  assert.ok(imports.some(({ specifiers }) => specifiers.includes('lmdb')));
  assert.ok(imports.some(({ specifiers }) => specifiers.includes('piscina')));
});

/**
 * Modules that import values from each other in a loop: an ES module cycle runs one of them
 * before the other has defined anything, so the order of imports decides what works.
 * (Type-only imports are erased and do not count.)
 */
function valueImportCycles(): string[] {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const deps = [
      ...readFileSync(file, 'utf8').matchAll(
        /^\s*(?:import|export)(\s+type)?[^'"]*?from\s+['"](\.[^'"]+)['"]/gm,
      ),
    ]
      .filter((m) => m[1] === undefined)
      .map((m) => join(dirname(file), (m[2] ?? '').replace(/\.js$/, '.ts')));
    graph.set(file, deps);
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open')
        cycles.push(
          [...path.slice(path.indexOf(dep)), dep].map((f) => relative(SRC, f)).join(' → '),
        );
      else if (state.get(dep) === undefined && graph.has(dep)) visit(dep);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return cycles;
}

test('no module imports values from one that imports it back (directly or around a loop)', () => {
  assert.deepEqual(valueImportCycles(), []);
});
