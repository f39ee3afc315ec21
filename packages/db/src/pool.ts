import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// numeric and bigint come back as strings: prices are exact decimals and must never pass through a float.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => value);
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

export interface PoolOptions {
  /** postgres:// URL of the database. */
  connectionString: string;
  /** Maximum connections. Default 10. */
  max?: number;
  /** Name shown in pg_stat_activity. Default `cdr-reports`. */
  applicationName?: string;
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'cdr-reports',
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` in a transaction on one client, committing on success and rolling back on any error. */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
