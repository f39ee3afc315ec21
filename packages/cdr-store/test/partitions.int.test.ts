import { dropExpiredPartitions, ensurePartitions, listPartitions, partitionsBetween } from '@cdr-reports/cdr-store';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

const insertCdr = (db: TestDatabase, id: string, startTime: string) =>
  db.pool.query(
    `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, duration, billsec, status, currency, price, total_price)
     VALUES ($1, 'acme', 'VOICE-CALL', 'outbound', '+442079460000', '+14155550100', $2, 60, 55, 'answered', 'EUR', '0.01', '0.01')`,
    [id, startTime],
  );

describe('monthly partitions and retention', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('names the months an interval touches, in UTC', () => {
    expect(partitionsBetween(new Date('2025-11-30T23:00:00-02:00'), new Date('2026-02-01T00:00:00Z')).map((p) => p.name)).toEqual([
      'cdrs_p202512',
      'cdrs_p202601',
      'cdrs_p202602',
    ]);
  });

  it('creates missing partitions on demand, once, even when raced', async () => {
    const from = new Date('2025-09-15T00:00:00Z');
    const to = new Date('2025-12-02T00:00:00Z');
    const results = await Promise.all([ensurePartitions(db.pool, from, to), ensurePartitions(db.pool, from, to)]);
    expect(results.flat().sort()).toEqual(['cdrs_p202509', 'cdrs_p202510', 'cdrs_p202511', 'cdrs_p202512']);
    expect(await ensurePartitions(db.pool, from, to)).toEqual([]);
    expect(await ensurePartitions(db.pool, to, new Date('2026-01-05T00:00:00Z'))).toEqual(['cdrs_p202601']);
    expect((await listPartitions(db.pool)).map((p) => p.name)).toEqual([
      'cdrs_p202509',
      'cdrs_p202510',
      'cdrs_p202511',
      'cdrs_p202512',
      'cdrs_p202601',
    ]);
  });

  it('creates a month without blocking a transaction that is writing to cdrs', async () => {
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, duration, billsec, status, currency, price, total_price)
         VALUES ('00000000-0000-4000-8000-0000000000aa', 'acme', 'SMS', 'outbound', 'ACME', '+14155550100', '2025-12-05T00:00:00Z', 0, 0, 'delivered', 'USD', '0.0075', '0.0075')`,
      );
      // Another connection creates February while this transaction still holds its write lock on cdrs.
      expect(await ensurePartitions(db.pool, new Date('2026-02-10T00:00:00Z'), new Date('2026-02-10T00:00:00Z'))).toEqual(['cdrs_p202602']);
      // And the open transaction can write into the new month at once.
      await writer.query(
        `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, duration, billsec, status, currency, price, total_price)
         VALUES ('00000000-0000-4000-8000-0000000000ab', 'acme', 'SMS', 'outbound', 'ACME', '+14155550100', '2026-02-10T00:00:00Z', 0, 0, 'delivered', 'USD', '0.0075', '0.0075')`,
      );
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
  });

  it('routes records to their month and refuses a month without a partition', async () => {
    await insertCdr(db, '00000000-0000-4000-8000-000000000001', '2025-09-30T23:59:59.999999Z');
    await insertCdr(db, '00000000-0000-4000-8000-000000000002', '2025-10-01T00:00:00Z');
    const counts = await db.pool.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM cdrs GROUP BY 1 ORDER BY 1`);
    expect(counts.rows).toEqual([
      { part: 'cdrs_p202509', n: 1 },
      { part: 'cdrs_p202510', n: 1 },
    ]);
    await expect(insertCdr(db, '00000000-0000-4000-8000-000000000003', '2030-01-01T00:00:00Z')).rejects.toThrow(/no partition/);
  });

  it('drops only partitions that lie wholly before the retention cut-off', async () => {
    // Cut-off 2025-10-15: September is entirely older and goes; October straddles the cut-off and stays.
    const now = new Date('2026-11-15T12:00:00Z');
    const dropped = await dropExpiredPartitions(db.pool, now, { months: 13, days: 0 });
    expect(dropped.map((p) => p.name)).toEqual(['cdrs_p202509']);
    expect((await listPartitions(db.pool)).map((p) => p.name)).toEqual(['cdrs_p202510', 'cdrs_p202511', 'cdrs_p202512', 'cdrs_p202601', 'cdrs_p202602']);
    const left = await db.pool.query('SELECT id FROM cdrs');
    expect(left.rows).toEqual([{ id: '00000000-0000-4000-8000-000000000002' }]);
    expect(await dropExpiredPartitions(db.pool, now, { months: 13, days: 0 })).toEqual([]);
  });
});
