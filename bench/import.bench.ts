/**
 * Import: `cdr import FILE` (the CLI, as a user runs it) of N generated rows (default 5M) in CSV, against
 * `psql \copy cdrs (...) FROM FILE WITH CSV HEADER` of the same file into the same, emptied, table.
 * BENCH_IMPORT_ROWS changes N.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCdrs, writeCdrs } from '@cdr-reports/cdr-store';
import { CDR_COLUMN_NAMES } from '@cdr-reports/domain';
import { createTestDatabase } from '@cdr-reports/testing';
import { timeShell } from './measure';
import type { Figure } from './report';

const ROOT = path.join(__dirname, '..');

export async function benchImport(options: { quick: boolean }): Promise<Figure[]> {
  const rows = Number(process.env.BENCH_IMPORT_ROWS ?? (options.quick ? 20_000 : 5_000_000));
  const dir = await mkdtemp(path.join(tmpdir(), 'cdr-bench-import-'));
  const db = await createTestDatabase();
  try {
    const file = path.join(dir, 'cdrs.csv');
    await writeCdrs(
      generateCdrs({ rows, accounts: ['bench-a', 'bench-b', 'bench-c'], from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z'), seed: 11 }),
      createWriteStream(file),
    );
    for (const id of ['bench-a', 'bench-b', 'bench-c']) await db.pool.query(`INSERT INTO accounts (id, name, webhook_secret) VALUES ($1, $1, 'whsec_x')`, [id]);
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const ours = await timeShell(`node dist/cli.js cdr import "${file}"`, env, ROOT);
    const loaded = await db.pool.query<{ count: string }>('SELECT count(*) FROM cdrs');
    if (Number(loaded.rows[0]!.count) !== rows) throw new Error(`cdr import loaded ${loaded.rows[0]!.count} rows, not ${rows}`);

    // The baseline loads into the same table, emptied, with the partitions the import created.
    await db.pool.query('TRUNCATE cdrs');
    const columns = CDR_COLUMN_NAMES.map((name) => `"${name}"`).join(', ');
    const psql = await timeShell(`psql -X -q "$DATABASE_URL" -c "$SQL"`, { DATABASE_URL: db.url, SQL: `\\copy cdrs (${columns}) FROM '${file}' WITH CSV HEADER` });
    const perSecond = rows / (ours.ms / 1000);
    const baseline = rows / (psql.ms / 1000);
    return [
      {
        benchmark: 'import',
        figure: `cdr import of ${rows.toLocaleString('en')} rows (CSV)`,
        value: perSecond,
        unit: 'rows/s',
        baseline: { name: 'psql \\copy FROM', value: baseline },
        target: { text: '>= 0.7x psql', met: perSecond >= 0.7 * baseline },
      },
    ];
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
