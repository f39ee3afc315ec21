import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, ensureDatabase, migrate, withDefaultUser, type Pool } from '@cdr-reports/db';

/** The PostgreSQL server tests use: TEST_DATABASE_SERVER or the machine's local one. */
export const TEST_DATABASE_SERVER = process.env.TEST_DATABASE_SERVER ?? 'postgres://127.0.0.1:5432';

export interface TestDatabase {
  /** postgres:// URL of a fresh, migrated database that belongs to this test suite alone. */
  url: string;
  pool: Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** Creates and migrates a database of its own for one test suite. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cdr_test_${randomBytes(5).toString('hex')}`;
  const url = `${TEST_DATABASE_SERVER}/${name}`;
  await ensureDatabase(url);
  const pool = createPool({ connectionString: url, max: 5, applicationName: 'cdr-reports-test' });
  await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: withDefaultUser(`${TEST_DATABASE_SERVER}/postgres`) });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
