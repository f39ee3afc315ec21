import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.data/**', 'coverage/**', 'dist/**'] },
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
    // The production object store knows S3 (the AWS SDK) and nothing else, and no app process loads the embedded
    // server, which patches node:crypto: npm start runs it as a process of its own (packages/embedded-s3/src/main.ts).
    files: ['packages/object-store/src/**', 'apps/api/src/**', 'apps/worker/src/**', 'apps/notifier/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 's3rver', message: 'The S3 emulator lives in @cdr-reports/embedded-s3, in a process of its own.' },
            { name: '@cdr-reports/embedded-s3', message: 'The embedded S3 server runs in a process of its own, never in an app.' },
          ],
        },
      ],
    },
  },
  {
    // Config parsing, the CLI wiring of child processes and test fixtures are the places that may read the environment.
    files: ['packages/config/src/**', 'apps/cli/src/**', 'packages/testing/src/**', 'scripts/**', 'bench/**', '**/test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
