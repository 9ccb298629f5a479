// Lint rules that carry the architecture: the supervisor and the workers share only
// src/shared (the message union is their contract), and third-party surfaces stay
// behind their one adapter file (docs/architecture.md#boundaries-and-adapters).
import tseslint from 'typescript-eslint';

const onlyIn = (pkg, file) => ({
  group: [pkg, `${pkg}/*`],
  message: `import ${pkg} only in ${file}: it is that module's adapter`,
});

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
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/supervisor/**', '**/workers/**', '**/cli/**'],
              message: 'shared imports nothing from supervisor, workers or cli',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/supervisor/**/*.ts'],
    ignores: ['src/supervisor/ingress/uws.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workers/**'],
              message: 'the supervisor talks to workers only through src/shared/messages.ts',
            },
            onlyIn('@trufflesuite/uws-js-unofficial', 'src/supervisor/ingress/uws.ts'),
            onlyIn('@btc-vision/uwebsockets.js', 'src/supervisor/ingress/uws.ts'),
          ],
        },
      ],
    },
  },
  {
    files: ['src/workers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/supervisor/**', '**/cli/**'],
              message: 'workers talk to the supervisor only through src/shared/messages.ts',
            },
          ],
        },
      ],
    },
  },
);
