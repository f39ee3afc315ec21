import { parseConfig, type Config } from '@cdr-reports/config';
import { EMBEDDED_S3_CREDENTIALS } from '@cdr-reports/object-store';
import { createTestDatabase, type TestDatabase } from './database';
import { TEST_REDIS_URL, uniqueQueuePrefix } from './redis';
import { startTestS3, type TestS3 } from './s3';

/** Real services that belong to one test suite: its own database, queue prefix, S3 server and bucket. */
export interface TestServices {
  db: TestDatabase;
  s3: TestS3;
  prefix: string;
  /** The environment variables that point an app at these services, with `overrides` applied. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** The apps' configuration from that environment. */
  config(overrides?: Record<string, string>): Config;
  /** Drops the database and stops the S3 server. */
  close(): Promise<void>;
}

export async function startTestServices(): Promise<TestServices> {
  const db = await createTestDatabase();
  const s3 = await startTestS3();
  const prefix = uniqueQueuePrefix();
  const env = (overrides: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
    LOG_LEVEL: 'silent',
    ...overrides,
  });
  return {
    db,
    s3,
    prefix,
    env,
    config: (overrides = {}) => parseConfig(env(overrides)),
    async close() {
      await db.drop();
      await s3.close();
    },
  };
}
