import { AccountsRepository, ReportsRepository } from '@cdr-reports/db';
import { parseReportRequest } from '@cdr-reports/domain';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

/** Reports without an idempotency key are inserted together by concurrent requests (one INSERT per batch). */
describe('ReportsRepository.create under concurrency', () => {
  let db: TestDatabase;
  let reports: ReportsRepository;
  const request = (accountId: string, client_ref: string) =>
    parseReportRequest(
      { product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', account_id: accountId, client_ref },
      { principalAccountId: accountId, now: new Date('2026-03-10T00:00:00Z'), oldestDateStart: new Date(0) },
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    reports = new ReportsRepository(db.pool);
    await new AccountsRepository(db.pool).create({ name: 'Acme', id: 'acme' });
  });
  afterAll(() => db.drop());

  it('gives every concurrent request its own stored report, in fewer statements than reports', async () => {
    const ids = Array.from({ length: 80 }, () => crypto.randomUUID());
    const query = jest.spyOn(db.pool, 'query');
    let results;
    try {
      results = await Promise.all(ids.map((id, i) => reports.create({ id, requestedBy: 'acme', request: request('acme', `ref-${i}`) })));
      expect(query.mock.calls.length).toBeLessThan(ids.length / 4);
    } finally {
      query.mockRestore();
    }
    results.forEach(({ report, created }, i) => {
      expect(created).toBe(true);
      expect(report).toMatchObject({ id: ids[i], accountId: 'acme', status: 'PENDING', request: { client_ref: `ref-${i}` } });
    });
    const stored = await db.pool.query<{ id: string; ref: string }>(`SELECT id, request->>'client_ref' AS ref FROM reports`);
    expect(new Map(stored.rows.map((row) => [row.id, row.ref]))).toEqual(new Map(ids.map((id, i) => [id, `ref-${i}`])));
  });

  it('fails only the request that cannot be stored, not the others of its batch', async () => {
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    const outcomes = await Promise.allSettled(
      // The 8th names an account that does not exist: its row breaks the foreign key.
      ids.map((id, i) => reports.create({ id, requestedBy: 'acme', request: request(i === 7 ? 'ghost' : 'acme', `b-${i}`) })),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(ids.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    const stored = await db.pool.query(`SELECT id FROM reports WHERE id = ANY($1::uuid[])`, [ids]);
    expect(stored.rowCount).toBe(19);
  });
});
