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
 * `import(…)` and `require(…)` (a template literal counts up to its first `${`).
 */
const packageImports = sources(SRC).flatMap((path) => {
  const text = readFileSync(path, 'utf8');
  const file = relative(REPO_ROOT, path).split(sep).join('/');
  return [
    ...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\b(?:import|require)\(\s*['"`]([^'"`$]+)/g),
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
