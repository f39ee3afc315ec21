import { parseConfig, type Config } from '@cdr-reports/config';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/embedded-s3';
import { createTestDatabase, type TestDatabase } from './database';
import { TEST_REDIS_URL, uniqueQueuePrefix } from './redis';
import { startTestS3, type TestS3 } from './s3';

/** Real services that belong to one test suite: its own database, queue prefix, S3 server and bucket. */
export interface TestServices {
  db: TestDatabase;
  s3: TestS3;
  prefix: string;
  /** The Redis server the apps are pointed at (REDIS_URL). */
  redisUrl: string;
  /** The environment variables that point an app at these services, with `overrides` applied. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** The apps' configuration from that environment. */
  config(overrides?: Record<string, string>): Config;
  /** Drops the database and stops the S3 server. */
  close(): Promise<void>;
}

export interface TestServicesOptions {
  /** The Redis server for the apps' queues, such as one a test owns (startTestRedisServer). Default TEST_REDIS_URL. */
  redisUrl?: string;
  /** An S3 server to use instead of a fresh one, such as one a test stops and starts (startRestartableS3); closed with the services. */
  s3?: TestS3;
}

export async function startTestServices(options: TestServicesOptions = {}): Promise<TestServices> {
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const db = await createTestDatabase();
  let s3: TestS3;
  try {
    s3 = options.s3 ?? (await startTestS3());
  } catch (error) {
    await db.drop();
    throw error;
  }
  const prefix = uniqueQueuePrefix();
  const env = (overrides: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    LOG_LEVEL: 'silent',
    // Suites and benchmarks drive hundreds of requests a second with one key: limits far above that, still
    // counted (the rate-limit suite sets its own).
    RATE_LIMIT_REPORT_CREATIONS: '1000000',
    RATE_LIMIT_REQUESTS: '1000000',
    // Every app of every test on a free port of its own (it logs which).
    METRICS_PORT: '0',
    ...overrides,
  });
  return {
    db,
    s3,
    prefix,
    redisUrl,
    env,
    config: (overrides = {}) => parseConfig(env(overrides)),
    async close() {
      await db.drop();
      await s3.close();
    },
  };
}
