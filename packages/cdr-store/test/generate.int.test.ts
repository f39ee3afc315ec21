import { generateCdrs, importCdrRecords, type CdrGeneratorOptions } from '@cdr-reports/cdr-store';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

const OPTIONS: CdrGeneratorOptions = {
  rows: 30_000,
  accounts: ['acme', 'globex'],
  from: new Date('2026-01-20T00:00:00Z'),
  to: new Date('2026-02-10T00:00:00Z'),
  seed: 7,
};

describe('loading generated CDRs', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    expect(db.pool.totalCount - db.pool.idleCount).toBe(0);
    await db.drop();
  });

  it('inserts every generated record through the import path, and nothing more when loaded again', async () => {
    const generate = () => generateCdrs(OPTIONS);
    const first = await importCdrRecords(db.pool, generate);
    expect(first).toMatchObject({
      source: 'records',
      status: 'loaded',
      loadMode: 'copy',
      rowsRead: 30_000,
      inserted: 30_000,
      alreadyPresent: 0,
      rejected: 0,
      partitionsCreated: ['cdrs_p202601', 'cdrs_p202602'],
    });
    const stored = await db.pool.query(
      `SELECT count(*)::int AS n, count(DISTINCT account_id)::int AS accounts, count(DISTINCT product)::int AS products,
              count(DISTINCT status)::int AS statuses, min(start_time) >= $1 AND max(start_time) < $2 AS in_range
       FROM cdrs`,
      [OPTIONS.from, OPTIONS.to],
    );
    expect(stored.rows[0]).toEqual({ n: 30_000, accounts: 2, products: 3, statuses: 10, in_range: true });

    const again = await importCdrRecords(db.pool, generate);
    expect(again).toMatchObject({ status: 'loaded', loadMode: 'staging', rowsRead: 30_000, inserted: 0, alreadyPresent: 30_000 });
  });

  it('stores prices exactly as generated', async () => {
    const sample = [...generateCdrs({ ...OPTIONS, rows: 200 })];
    const result = await db.pool.query<{ id: string; price: string; total_price: string }>(
      'SELECT id::text, price::text, total_price::text FROM cdrs WHERE id = ANY($1::uuid[])',
      [sample.map((r) => r.id)],
    );
    const byId = new Map(result.rows.map((r) => [r.id, r]));
    for (const record of sample) {
      const row = byId.get(record.id!)!;
      // numeric keeps the digits as given, trailing zeros included.
      expect(row.price).toBe(record.price);
      expect(row.total_price).toBe(record.total_price);
    }
  });
});

