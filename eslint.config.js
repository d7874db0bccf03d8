// ESLint with type information: promises are awaited (or handed off with `void` on purpose),
// workflow code stays deterministic, and SQL stays in src/store. `npm test` runs it.
const { builtinModules } = require('node:module');
const tseslint = require('typescript-eslint');

// Node built-ins workflow code may still import (the SDK's sandbox provides them).
const workflowSafeBuiltins = new Set(['assert', 'url', 'util']);
const forbiddenBuiltins = builtinModules.filter((name) => !workflowSafeBuiltins.has(name) && !name.startsWith('_'));

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.tools/**', 'coverage/**', 'test/fixtures/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      'no-duplicate-imports': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenBuiltins.flatMap((name) => [name, `node:${name}`]).map((name) => ({
            name,
            message: 'Workflow code runs in the deterministic sandbox: no Node built-ins (only assert, url, util).',
          })),
          patterns: [
            { group: ['**/src/**', '../src', '**/../src'], message: 'Workflow code imports workflows/contracts, never src/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['src/store/**', 'src/platform/db.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='query']",
          message: 'SQL lives in src/store/: add a typed query there and call it.',
        },
      ],
    },
  },
  {
    // Statements are prepared per connection (src/platform/db.ts). A prepared `SELECT *` fails
    // with "cached plan must not change result type" once a migration adds a column, so a
    // rolling deploy would break the processes still running the old release.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['TemplateElement[value.raw', 'Literal[value'].map((node) => ({
          selector: `${node}=/(SELECT|RETURNING)\\s+\\*/i]`,
          message: 'Name the columns: prepared statements outlive migrations that add columns (src/platform/db.ts).',
        })),
      ],
    },
  },
);
