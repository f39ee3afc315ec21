import { randomBytes } from 'node:crypto';

/** The Redis server tests use: TEST_REDIS_URL or the machine's local one. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue prefix no other test uses, so suites never see each other's jobs. */
export function uniqueQueuePrefix(): string {
  return `cdr-test-${randomBytes(5).toString('hex')}`;
}
