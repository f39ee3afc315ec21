import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through @cdr-reports/config.' },
      ],
    },
  },
  {
    // Config parsing, the CLI wiring of child processes and test fixtures are the places that may read the environment.
    files: ['packages/config/src/**', 'apps/cli/src/**', 'packages/testing/src/**', 'scripts/**', 'bench/**', '**/test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
