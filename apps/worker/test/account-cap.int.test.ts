import { generateCdrs } from '@cdr-reports/cdr-store';
import { waitFor, yesterdayAtUtc, useReportCluster } from '@cdr-reports/testing';

/**
 * REPORT_ACCOUNT_CONCURRENCY: one account's reports beyond its share wait PENDING (not rejected), however many
 * slots the workers have, and another account's report runs meanwhile without waiting behind them.
 */
describe('per-account cap on running reports', () => {
  const cluster = useReportCluster({
    // Six slots, a share of two; level 9 keeps each report running long enough to be seen.
    env: { REPORT_WORKER_CONCURRENCY: '6', REPORT_ACCOUNT_CONCURRENCY: '2', REPORT_COMPRESSION_LEVEL: '9', REPORT_LARGE_ROWS: '100000000' },
  });
  let busy: string;
  let quiet: string;
  const from = yesterdayAtUtc(0);
  const body = { product: 'VOICE-CALL', date_start: new Date(from).toISOString(), date_end: new Date(from + 86_400_000).toISOString() };

  beforeAll(async () => {
    busy = await cluster.account('busy');
    quiet = await cluster.account('quiet');
    await cluster.load([...generateCdrs({ rows: 60_000, accounts: ['busy'], from: new Date(from), to: new Date(from + 86_400_000), seed: 3, products: ['VOICE-CALL'] })]);
    await cluster.load([...generateCdrs({ rows: 100, accounts: ['quiet'], from: new Date(from), to: new Date(from + 86_400_000), seed: 4, products: ['VOICE-CALL'] })]);
  }, 90_000);

  it('runs at most two of the busy account’s six reports at once, all succeed, and the quiet account is not held up', async () => {
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await cluster.createReport(busy, body)).request_id);
    const statuses = async () =>
      (await cluster.services.db.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM reports WHERE account_id = 'busy' GROUP BY status`)).rows;

    let maxRunning = 0;
    let quietDoneWhileBusyWaited = false;
    const quietId = await waitFor(
      async () => {
        const rows = await statuses();
        maxRunning = Math.max(maxRunning, rows.find((r) => r.status === 'PROCESSING')?.n ?? 0);
        return (rows.find((r) => r.status === 'PROCESSING')?.n ?? 0) > 0 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 10, what: 'the busy account’s reports to start' },
    ).then(async () => (await cluster.createReport(quiet, body)).request_id);

    const started = Date.now();
    await waitFor(
      async () => {
        const rows = await statuses();
        maxRunning = Math.max(maxRunning, rows.find((r) => r.status === 'PROCESSING')?.n ?? 0);
        const quietReport = await cluster.request('GET', `/v1/reports/${quietId}`, quiet);
        if (quietReport.body.request_status === 'SUCCESS' && !quietDoneWhileBusyWaited) {
          quietDoneWhileBusyWaited = (rows.find((r) => r.status === 'PENDING')?.n ?? 0) > 0 || (rows.find((r) => r.status === 'PROCESSING')?.n ?? 0) > 0;
          expect(Date.now() - started).toBeLessThan(5_000);
        }
        return rows.length === 1 && rows[0]!.status === 'SUCCESS' && rows[0]!.n === 6 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 10, what: 'every busy report to succeed' },
    );
    expect(maxRunning).toBe(2);
    expect(quietDoneWhileBusyWaited).toBe(true);
    for (const id of ids) {
      const report = await cluster.request('GET', `/v1/reports/${id}`, busy);
      expect(report.body).toMatchObject({ request_status: 'SUCCESS', items_count: 60_000 });
      // Waiting for a slot is not an attempt.
      expect((await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0].attempts).toBe(1);
    }
  }, 150_000);
});
