import type { Queue } from 'bullmq';
import { generateCdrs } from '@cdr-reports/cdr-store';
import { QUEUES } from '@cdr-reports/jobs';
import { AppProcess, waitFor, useReportCluster, type ReportResource } from '@cdr-reports/testing';

/**
 * Tenant fairness: reports estimated above REPORT_LARGE_ROWS are moved to a lane of their own before they start. One account's huge
 * reports fill that lane (REPORT_LARGE_CONCURRENCY=1 here: one runs, the next waits), while another account's
 * small report is built at once in the standard lane.
 */
describe('report lanes', () => {
  const env = { REPORT_LARGE_ROWS: '50000', REPORT_WORKER_CONCURRENCY: '1', REPORT_LARGE_CONCURRENCY: '1' };
  const cluster = useReportCluster({ worker: false, env });
  let standard: Queue;
  let large: Queue;
  let worker: AppProcess;
  let bigKey: string;
  let smallKey: string;
  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  const range = { date_start: from.toISOString(), date_end: to.toISOString() };
  const get = async (key: string, id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;

  beforeAll(async () => {
    bigKey = await cluster.account('carrier-big');
    smallKey = await cluster.account('shop-small');
    await cluster.load([...generateCdrs({ rows: 300_000, accounts: ['carrier-big'], from, to, seed: 21, products: ['VOICE-CALL'] })]);
    await cluster.load([...generateCdrs({ rows: 1_000, accounts: ['shop-small'], from, to, seed: 22, products: ['VOICE-CALL'] })]);
    await cluster.services.db.pool.query('ANALYZE cdrs');
    standard = cluster.reportQueue().queue;
    large = cluster.reportQueue(QUEUES.reportsLarge).queue;
    // Level 9: the large reports take long enough to be seen running.
    worker = cluster.spawn('worker', { ...env, REPORT_COMPRESSION_LEVEL: '9' });
    await worker.ready();
  }, 120_000);

  it('builds a small report at once while large reports fill their own lane', async () => {
    const big: string[] = [];
    for (let i = 0; i < 2; i++) big.push((await cluster.createReport(bigKey, { product: 'VOICE-CALL', ...range })).request_id);
    // Each entered the standard lane and was moved on to the large one before it started.
    for (const id of big) await waitFor(async () => (await large.getJob(id)) !== undefined || undefined, { what: `report ${id} in the large lane` });
    await waitFor(async () => (await get(bigKey, big[0]!)).request_status === 'PROCESSING' || undefined, { timeoutMs: 30_000, what: 'the first large report to start' });

    const small = (await cluster.createReport(smallKey, { product: 'VOICE-CALL', ...range })).request_id;
    expect(await standard.getJob(small)).toBeDefined();
    const done = await cluster.waitForStatus(smallKey, small, ['SUCCESS', 'FAILED'], 20_000);
    expect(done.request_status).toBe('SUCCESS');
    expect(done.items_count).toBe(1_000);

    // Meanwhile the large lane held one report at a time: the first still running, the second still waiting.
    expect((await get(bigKey, big[0]!)).request_status).toBe('PROCESSING');
    expect((await get(bigKey, big[1]!)).request_status).toBe('PENDING');

    // And both large reports are built in their turn.
    for (const id of big) expect((await cluster.waitForStatus(bigKey, id, ['SUCCESS', 'FAILED'], 90_000)).request_status).toBe('SUCCESS');
  }, 180_000);
});
