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

// Serialises partition DDL across importers: CREATE TABLE ... PARTITION OF takes locks that deadlock when raced.
const PARTITION_LOCK = 727_002;

/**
 * Creates the monthly partitions for [from, to] that do not exist yet and returns the names it created.
 * Given a pool, it works in a transaction of its own. Given a client, it works in that client's transaction:
 * pass the client when you are already writing to cdrs in a transaction (another connection would wait on yours).
 */
export async function ensurePartitions(db: Pool | PoolClient, from: Date, to: Date): Promise<string[]> {
  const wanted = partitionsBetween(from, to);
  const existing = new Set(await listPartitionNames(db));
  if (wanted.every((p) => existing.has(p.name))) return [];
  if (isPool(db)) return withTransaction(db, (client) => createMissing(client, wanted));
  return createMissing(db, wanted);
}

async function createMissing(client: PoolClient, wanted: Partition[]): Promise<string[]> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
  const existing = new Set(await listPartitionNames(client));
  const created: string[] = [];
  for (const p of wanted) {
    if (existing.has(p.name)) continue;
    await client.query(
      `CREATE TABLE ${p.name} PARTITION OF cdrs FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`,
    );
    created.push(p.name);
  }
  return created;
}

function isPool(db: Pool | PoolClient): db is Pool {
  return 'totalCount' in db;
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
