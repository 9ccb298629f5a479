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
 * Modules that import from each other in a loop. With values, an ES module cycle runs one of
 * them before the other has defined anything, so the order of imports decides what works;
 * with types, the two modules cannot be read (or moved) one without the other. Either way
 * the shared part belongs in a module of its own below both.
 */
function importCycles(): string[] {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const deps = [
      ...readFileSync(file, 'utf8').matchAll(
        /^\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm,
      ),
    ].map((m) => join(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')));
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

test('no module imports one that imports it back (directly or around a loop, types too)', () => {
  assert.deepEqual(importCycles(), []);
});

/**
 * The layers of each side, top first (docs/architecture.md#layers): a module imports only
 * from its own folder, from a folder of a lower layer, or from src/shared. Folders of one
 * layer do not import each other.
 */
const LAYERS: ReadonlyArray<ReadonlyArray<readonly string[]>> = [
  [
    ['supervisor/index.ts'],
    ['supervisor/admin'],
    ['supervisor/transports'],
    ['supervisor/relay'],
    ['supervisor/session'],
    ['supervisor/catalog', 'supervisor/pool', 'supervisor/ingress'],
  ],
  [['workers/shard.ts'], ['workers/backend'], ['workers/channels']],
];

/** A file's part (`supervisor/relay`, or a top-level file such as `workers/shard.ts`). */
function partOf(file: string): string {
  const [side = '', second = ''] = file.split('/');
  return `${side}/${second}`;
}

function layerOf(part: string): { side: number; rank: number } | undefined {
  for (const [side, layers] of LAYERS.entries()) {
    const rank = layers.findIndex((folders) => folders.includes(part));
    if (rank >= 0) return { side, rank };
  }
  return undefined;
}

function upwardImports(): string[] {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file);
    const fromLayer = layerOf(partOf(from));
    if (fromLayer === undefined) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(
      /^\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm,
    )) {
      const to = relative(SRC, join(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')));
      if (partOf(to) === partOf(from)) continue;
      const toLayer = layerOf(partOf(to));
      if (toLayer === undefined) continue; // src/shared, below every layer
      if (toLayer.side !== fromLayer.side || toLayer.rank <= fromLayer.rank)
        found.push(`${from} imports ${to}`);
    }
  }
  return found;
}

test('every folder of the supervisor and the workers is in a layer', () => {
  const parts = new Set(
    sources(SRC)
      .map((file) => relative(SRC, file))
      .filter((file) => /^(supervisor|workers)\//.test(file))
      .map(partOf),
  );
  assert.deepEqual(
    [...parts].filter((part) => layerOf(part) === undefined),
    [],
  );
});

test('nothing imports upward (or sideways within a layer)', () => {
  assert.deepEqual(upwardImports(), []);
});
