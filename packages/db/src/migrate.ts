import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '@cdr-reports/config';
import pg from 'pg';
import { withDefaultUser, type Pool } from './pool';

const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'packages', 'db', 'migrations');
// Any fixed number: every process that migrates takes the same lock, so concurrent start-ups apply each file once.
const MIGRATION_LOCK = 727_001;

/** Creates the database named in `connectionString` when it does not exist yet. */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(withDefaultUser(connectionString));
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // 42P04: another process created it between our check and our CREATE.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** The database's schema is behind the code: the migrate step has not run for this release. */
export class SchemaNotCurrentError extends Error {
  override name = 'SchemaNotCurrentError';
}

/**
 * Checks at an app's start that every migration file has been applied, and says what to run when not. Apps never
 * migrate themselves: the migrate step (`cli migrate`, which `npm start`, docker compose and the Kubernetes Job
 * run before the apps) does, once per release, so an old replica still running during a rollout never races a
 * new one over the schema.
 */
export async function assertMigrated(pool: Pool): Promise<void> {
  const files = await migrationFiles();
  const applied = await pool
    .query<{ version: string }>('SELECT version FROM schema_migrations')
    .then((result) => new Set(result.rows.map((row) => row.version)))
    .catch((error: { code?: string }) => {
      // 42P01: no schema_migrations table yet, nothing was ever applied.
      if (error.code === '42P01') return new Set<string>();
      throw error;
    });
  const pending = files.filter((file) => !applied.has(file));
  if (pending.length > 0) {
    throw new SchemaNotCurrentError(`the database has ${pending.length} migration(s) pending (${pending.join(', ')}): run \`npm run cli -- migrate\` first`);
  }
}

async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
}

/** Applies the migration files not applied yet, in order, each in its own transaction. Returns their names. */
export async function migrate(pool: Pool): Promise<string[]> {
  const files = await migrationFiles();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return applied;
}
