import { withTransaction, type Pool, type PoolClient } from '@cdr-reports/db';

/** A monthly partition of the cdrs table: [from, to) in UTC. */
export interface Partition {
  name: string;
  from: Date;
  to: Date;
}

const PARTITION_NAME = /^cdrs_p(\d{4})(\d{2})$/;

/** The name of the partition holding instants of the month of `instant` (UTC), e.g. cdrs_p202603. */
export function partitionFor(instant: Date): Partition {
  const from = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), 1));
  const to = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth() + 1, 1));
  const name = `cdrs_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, from, to };
}

/** Every monthly partition that instants in [from, to] fall in. */
export function partitionsBetween(from: Date, to: Date): Partition[] {
  const partitions: Partition[] = [];
  for (let p = partitionFor(from); p.from.getTime() <= to.getTime(); p = partitionFor(p.to)) partitions.push(p);
  return partitions;
}

// Serialises partition DDL across processes, so two importers never create the same month twice.
const PARTITION_LOCK = 727_002;

/**
 * Creates the monthly partitions for [from, to] that do not exist yet and returns the names it created.
 * It works in a transaction of its own and never blocks readers or writers of cdrs: the month is created as
 * a plain table and then attached, which takes only a SHARE UPDATE EXCLUSIVE lock on cdrs (CREATE TABLE ...
 * PARTITION OF would take an ACCESS EXCLUSIVE one, queueing every report behind a running import). So it may
 * be called while the caller holds a transaction that writes to cdrs on another connection.
 */
export async function ensurePartitions(pool: Pool, from: Date, to: Date): Promise<string[]> {
  const wanted = partitionsBetween(from, to);
  const existing = new Set(await listPartitionNames(pool));
  if (wanted.every((p) => existing.has(p.name))) return [];
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const present = new Set(await listPartitionNames(client));
    const created: string[] = [];
    for (const p of wanted) {
      if (present.has(p.name)) continue;
      await client.query(`CREATE TABLE ${p.name} (LIKE cdrs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      // The range constraint lets ATTACH skip its validation scan (the table is empty anyway).
      await client.query(
        `ALTER TABLE ${p.name} ADD CONSTRAINT ${p.name}_range CHECK (start_time >= '${p.from.toISOString()}' AND start_time < '${p.to.toISOString()}')`,
      );
      await client.query(`ALTER TABLE cdrs ATTACH PARTITION ${p.name} FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`);
      created.push(p.name);
    }
    return created;
  });
}

/** The monthly partitions of the cdrs table, oldest first. */
export async function listPartitions(db: Pool | PoolClient): Promise<Partition[]> {
  return (await listPartitionNames(db))
    .map((name) => {
      const match = PARTITION_NAME.exec(name);
      if (!match) return undefined;
      return partitionFor(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)));
    })
    .filter((p): p is Partition => p !== undefined)
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

async function listPartitionNames(db: Pool | PoolClient): Promise<string[]> {
  const result = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname = 'cdrs' AND p.relnamespace = current_schema()::regnamespace`,
  );
  return result.rows.map((r) => r.name);
}
