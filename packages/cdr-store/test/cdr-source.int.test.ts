import { createPool } from '@cdr-reports/db';
import { importCdrRecords, PostgresCdrSource } from '@cdr-reports/cdr-store';
import { createTestDatabase, freePort } from '@cdr-reports/testing';
import { describeCdrSourceContract } from './cdr-source.contract';

describeCdrSourceContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  // Nothing listens on this port: connecting is refused.
  const unreachablePool = createPool({ connectionString: `postgres://127.0.0.1:${await freePort()}/none`, max: 1 });
  return {
    source: new PostgresCdrSource(db.pool),
    unreachable: new PostgresCdrSource(unreachablePool),
    async load(records) {
      await importCdrRecords(db.pool, () => records);
      await db.pool.query('ANALYZE cdrs');
    },
    async cutConnections() {
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`);
    },
    async close() {
      await unreachablePool.end();
      await db.drop();
    },
  };
});
