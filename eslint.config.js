// Lint rules that carry the architecture: the supervisor and the workers share only
// src/shared (the message union is their contract), and every runtime dependency stays
// behind its adapter, named in boundaries.json (docs/architecture.md#boundaries-and-adapters).
import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

const readJson = (file) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));
const { adapters } = readJson('./boundaries.json');
const { devDependencies = {} } = readJson('./package.json');

/** The package and any subpath of it, never a relative path that happens to share its name. */
const packagePattern = (pkg) => `^${pkg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/.*)?$`;

/** The layers of src, and what each must not import from the others. */
const layers = [
  {
    dir: 'src/shared/',
    patterns: [
      {
        group: ['**/supervisor/**', '**/workers/**', '**/cli/**'],
        message: 'shared imports nothing from supervisor, workers or cli',
      },
    ],
  },
  {
    dir: 'src/supervisor/',
    patterns: [
      {
        group: ['**/workers/**'],
        message: 'the supervisor talks to workers only through src/shared/messages.ts',
      },
    ],
  },
  {
    dir: 'src/workers/',
    patterns: [
      {
        group: ['**/supervisor/**', '**/cli/**'],
        message: 'workers talk to the supervisor only through src/shared/messages.ts',
      },
    ],
  },
];

const isIn = (place, path) => place === path || (place.endsWith('/') && path.startsWith(place));

/**
 * Every restriction that holds at `path` (a file, or a folder ending in `/`) of src: its layer's,
 * each dependency whose adapter is elsewhere, and every devDependency.
 */
function restrictionsAt(path) {
  return [
    ...layers.filter(({ dir }) => path.startsWith(dir)).flatMap(({ patterns }) => patterns),
    ...Object.entries(adapters)
      .filter(([, places]) => !Object.keys(places).some((place) => isIn(place, path)))
      .map(([pkg, places]) => ({
        regex: packagePattern(pkg),
        message: `${pkg} stays behind its adapter (boundaries.json): import it only in ${Object.keys(places).join(' or ')}`,
      })),
    ...Object.keys(devDependencies).map((pkg) => ({
      regex: packagePattern(pkg),
      message: `${pkg} is a devDependency, not installed for users: src must not import it`,
    })),
  ];
}

// ESLint replaces a rule's options with those of the last config that matches a file, so each
// config below carries every restriction for its files, and the more specific come later: all of
// src, then each layer, then each adapter (a folder before the files in it).
const restrictedImports = [
  'src/',
  ...layers.map(({ dir }) => dir),
  ...[...new Set(Object.values(adapters).flatMap(Object.keys))].sort((a, b) => a.length - b.length),
].map((path) => ({
  files: [path.endsWith('/') ? `${path}**/*.ts` : path],
  rules: { 'no-restricted-imports': ['error', { patterns: restrictionsAt(path) }] },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      // Small modules with one owner each: a file past 400 lines is split along its seams
      // (docs/architecture.md#layers).
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      // A string from a client or a backend must never index a plain object: `table[name]`
      // finds `constructor`, `toString`, … on Object.prototype. Lookup tables keyed by
      // string are Maps (README "Limits and safety"; test/e2e/hostile-requests.test.ts).
      'no-restricted-syntax': [
        'error',
        ...[
          'Program > VariableDeclaration',
          'Program > ExportNamedDeclaration > VariableDeclaration',
        ].map((declaration) => ({
          selector: `${declaration} > VariableDeclarator[init.type='ObjectExpression'] TSTypeReference[typeName.name='Record'] > TSTypeParameterInstantiation > TSStringKeyword:first-child`,
          message:
            'a module-level table keyed by string must be a Map (wire strings must not reach Object.prototype)',
        })),
      ],
    },
  },
  ...restrictedImports,
);
