import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { assertMigrated, createPool, ensureDatabase, migrate, SchemaNotCurrentError, withDefaultUser, type Pool } from '@cdr-reports/db';
import { TEST_DATABASE_SERVER } from '@cdr-reports/testing';

describe('migrations: the migrate step applies them, apps only check', () => {
  const name = `cdr_test_${randomBytes(5).toString('hex')}`;
  let pool: Pool;
  beforeAll(async () => {
    await ensureDatabase(`${TEST_DATABASE_SERVER}/${name}`);
    pool = createPool({ connectionString: `${TEST_DATABASE_SERVER}/${name}`, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
    const admin = new pg.Client({ connectionString: withDefaultUser(`${TEST_DATABASE_SERVER}/postgres`) });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('refuses an empty database, naming every pending migration and the command to run', async () => {
    const refusal = assertMigrated(pool);
    await expect(refusal).rejects.toBeInstanceOf(SchemaNotCurrentError);
    await expect(refusal).rejects.toThrow(/001_accounts_keys_cdrs\.sql.*005_schedules\.sql.*npm run cli -- migrate/);
    // Checking changed nothing: still no tables.
    expect((await pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n).toBe(0);
  });

  it('accepts the database once migrated, and migrating again applies nothing twice', async () => {
    await Promise.all([migrate(pool), migrate(pool)]);
    await expect(assertMigrated(pool)).resolves.toBeUndefined();
    const applied = await pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(new Set(applied.rows.map((r) => r.version)).size).toBe(applied.rows.length);
  });

  it('refuses a database one migration behind', async () => {
    await pool.query(`DELETE FROM schema_migrations WHERE version = '005_schedules.sql'`);
    await expect(assertMigrated(pool)).rejects.toThrow(/1 migration\(s\) pending \(005_schedules\.sql\)/);
  });
});
