/**
 * The architecture's import rules, checked on the sources (lint enforces them too; this
 * is the backstop that cannot be switched off by a disable comment): supervisor and
 * workers share only src/shared, and each runtime dependency stays in the adapter
 * boundaries.json names for it (docs/architecture.md#boundaries-and-adapters).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
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

test('the benchmark is a client of any MCP server: it imports only src/shared', () => {
  assert.deepEqual(
    violations(
      (f) => f.startsWith('bench/'),
      (s) => /\/(supervisor|workers|cli|demo)\//.test(s),
    ),
    [],
  );
});

test('shared imports nothing from supervisor, workers or cli', () => {
  assert.deepEqual(
    violations(
      (f) => f.startsWith('shared/'),
      (s) => /\/(supervisor|workers|cli|bench)\//.test(s),
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

// ───────────────────────── every dependency behind its adapter ─────────────────────────

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8'));

const manifest = readJson('package.json') as {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const runtimeDependencies = [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.optionalDependencies ?? {}),
];
const devDependencies = Object.keys(manifest.devDependencies ?? {});

/** Dependency → the places (repo-relative files, or folders ending in `/`) that may import it. */
const adapters = new Map(
  Object.entries((readJson('boundaries.json') as { adapters: object }).adapters).map(
    ([dependency, places]) => [dependency, Object.keys(places as object)],
  ),
);

const isIn = (place: string, file: string): boolean =>
  place === file || (place.endsWith('/') && file.startsWith(place));

/**
 * Every package a source file names, in any form: `import`/`export … from`, a bare `import '…'`,
 * `import(…)`, `require(…)` and `require.resolve(…)` (a template literal counts up to its first `${`).
 */
const packageImports = sources(SRC).flatMap((path) => {
  const text = readFileSync(path, 'utf8');
  const file = relative(REPO_ROOT, path).split(sep).join('/');
  return [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\b(?:import|require(?:\.resolve)?)\(\s*['"`]([^'"`$]+)/g),
  ]
    .map((m) => m[1] ?? '')
    .filter((specifier) => !/^(\.|\/|node:)/.test(specifier))
    .map((specifier) => ({ file, specifier, name: packageName(specifier) }));
});

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

test('every runtime dependency in package.json has an adapter in boundaries.json', () => {
  assert.deepEqual(
    runtimeDependencies.filter((dependency) => !adapters.has(dependency)),
    [],
    'add the dependency and the one place that may import it to boundaries.json',
  );
  assert.deepEqual(
    [...adapters.keys()].filter((dependency) => !runtimeDependencies.includes(dependency)),
    [],
    'boundaries.json names a package that is not a runtime dependency',
  );
});

test('each adapter in boundaries.json exists and imports its dependency', () => {
  for (const [dependency, places] of adapters) {
    assert.ok(places.length > 0, `${dependency} has no adapter`);
    for (const place of places) {
      const path = join(REPO_ROOT, place);
      assert.ok(place.startsWith('src/') && existsSync(path), `${place} does not exist`);
      assert.equal(
        statSync(path).isDirectory(),
        place.endsWith('/'),
        `${place}: a folder ends in /`,
      );
      assert.ok(
        packageImports.some(({ file, name }) => name === dependency && isIn(place, file)),
        `${place} does not import ${dependency}`,
      );
    }
  }
});

test('each runtime dependency is imported only in its adapter', () => {
  assert.deepEqual(
    packageImports
      .filter(({ file, name }) => {
        const places = adapters.get(name);
        return places !== undefined && !places.some((place) => isIn(place, file));
      })
      .map(
        ({ file, specifier, name }) =>
          `${file} imports ${specifier}; ${name} only in ${adapters.get(name)!.join(' or ')}`,
      ),
    [],
  );
});

test('src imports only Node built-ins and runtime dependencies, never a devDependency', () => {
  assert.deepEqual(
    packageImports
      .filter(({ name }) => devDependencies.includes(name))
      .map(({ file, specifier }) => `${file} imports ${specifier}, a devDependency`),
    [],
  );
  assert.deepEqual(
    packageImports
      .filter(
        ({ specifier, name }) =>
          !runtimeDependencies.includes(name) && !builtinModules.includes(specifier),
      )
      .map(
        ({ file, specifier }) => `${file} imports ${specifier}, which package.json does not list`,
      ),
    [],
  );
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
    ['supervisor/fleet'],
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
