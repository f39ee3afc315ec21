/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Tests are TypeScript run from source: swc strips types (tsc --noEmit checks them separately).
const transform: Config['transform'] = { '^.+\\.ts$': ['@swc/jest', {}] };
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

const config: Config = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.test.ts', '<rootDir>/{apps,packages}/*/src/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.int\\.test\\.ts$', '/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      // Integration suites talk to the real Redis, PostgreSQL and S3 server; each isolates itself
      // (own database, queue prefix and bucket), so they can share the machine's two cores.
      testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.int.test.ts', '<rootDir>/test/**/*.int.test.ts'],
      testTimeout: 60_000,
    },
  ],
};

export default config;
