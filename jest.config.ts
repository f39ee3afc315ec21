/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Tests are TypeScript run from source: swc strips types (tsc --noEmit checks them separately).
// swc also turns the few ESM-only dependencies (cookie, used by Fastify's inject; content-disposition, used by
// @fastify/static under Bull Board) into CommonJS for Jest.
// (Outside Jest, Node 20.19+ and tsx load them with require() as they are.)
const ESM_ONLY_DEPENDENCIES = ['cookie', 'content-disposition'];
const common: Partial<Config> = {
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { module: { type: 'commonjs' } }] },
  // Whatever node_modules folder they sit in (content-disposition is nested under @fastify/static).
  transformIgnorePatterns: [`^(?!.*/node_modules/(${ESM_ONLY_DEPENDENCIES.join('|')})/).*/node_modules/`],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

const config: Config = {
  // A global option: Jest ignores it inside a project. Integration tests wait for real servers on a busy machine;
  // how fast things are is measured by the benchmarks, never by a test's clock.
  testTimeout: 60_000,
  // Builds dist/ (the apps' entry points, which AppProcess and the embedded S3 process run) from the source under test.
  globalSetup: '<rootDir>/scripts/build.ts',
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
      // Node's environment plus a leak check: a suite fails when, after its last afterAll, it left sockets,
      // servers, timers or child processes open that were not open before it ran.
      testEnvironment: '<rootDir>/packages/testing/src/leak-checking-environment.ts',
      testEnvironmentOptions: { leakGraceMs: 5_000 },
    },
  ],
};

export default config;
