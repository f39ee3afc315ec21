import { userInfo } from 'node:os';
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
  /**
   * Commit without waiting for the WAL flush. For writes that may be lost in a database crash (not an app
   * crash) without harm, such as callback attempt logs: a lost "delivered" only means one more delivery,
   * which at-least-once receivers expect. Default false.
   */
  asynchronousCommit?: boolean;
}

/**
 * The URL with a user name filled in when it has none: pg falls back to $USER, which service managers and
 * CI runners often leave unset; the OS account name is what local trust/peer authentication expects anyway.
 */
export function withDefaultUser(connectionString: string): string {
  const url = new URL(connectionString);
  // eslint-disable-next-line no-restricted-properties -- PGUSER is libpq's own convention, honoured as pg does.
  if (!url.username && !process.env.PGUSER) url.username = encodeURIComponent(userInfo().username);
  return url.toString();
}

export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: withDefaultUser(options.connectionString),
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'cdr-reports',
    ...(options.asynchronousCommit ? { options: '-c synchronous_commit=off' } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that kills the process.
  pool.on('error', () => undefined);
  // A checked-out client whose connection dies between two queries (a terminated backend, a failover) emits
  // 'error' on itself, which pg-pool does not listen to while the client is lent out: unheard, that error
  // kills the process. The next query on the client fails, and that failure is its holder's to handle.
  pool.on('connect', (client) => client.on('error', () => undefined));
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
