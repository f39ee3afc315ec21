import { gunzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { generateCdrs } from '@cdr-reports/cdr-store';
import { QUEUES } from '@cdr-reports/jobs';
import { waitFor, useReportCluster, type ReportResource } from '@cdr-reports/testing';

/**
 * Fan-out: a report estimated above REPORT_FANOUT_ROWS is split into time segments run as a BullMQ flow that
 * any worker takes; the parent joins the gzip parts into one file with one header. The file must be the very
 * file the single-job path builds, byte for byte once inflated, with the same count and summary.
 */
describe('fanned-out reports', () => {
  const cluster = useReportCluster({ worker: false });
  let redis: Redis;
  let segments: Queue;
  let key: string;
  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  // Microsecond bounds: the outer segments must keep them exactly as the single job does.
  const body = { product: 'VOICE-CALL', date_start: new Date(from.getTime() + DAY).toISOString().replace('.000Z', '.000123Z'), date_end: to.toISOString() };

  beforeAll(async () => {
    key = await cluster.account('carrier');
    await cluster.load([...generateCdrs({ rows: 60_000, accounts: ['carrier'], from, to, seed: 31, products: ['VOICE-CALL'] })]);
    await cluster.services.db.pool.query('ANALYZE cdrs');
    ({ redis, queue: segments } = cluster.reportQueue(QUEUES.reportSegments));
  }, 90_000);

  it('builds a JSON Lines report across two workers: the single job\'s file, no header in any part', async () => {
    const jsonl = { ...body, format: 'jsonl' };
    await cluster.startWorker();
    const single = (await cluster.createReport(key, jsonl)).request_id;
    const reference = await cluster.waitForStatus(key, single, ['SUCCESS', 'FAILED'], 60_000);
    expect(reference.request_status).toBe('SUCCESS');
    await cluster.stopWorker();

    const workers = [0, 1].map(() => cluster.spawn('worker', { REPORT_FANOUT_ROWS: '1000', REPORT_SEGMENT_ROWS: '7000', REPORT_SEGMENT_CONCURRENCY: '1' }));
    try {
      for (const worker of workers) await worker.ready();
      const id = (await cluster.createReport(key, jsonl)).request_id;
      const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED'], 90_000);
      expect({ status: done.request_status, error: done.error }).toEqual({ status: 'SUCCESS', error: undefined });
      expect((await segments.getJobs(['completed'])).filter((job) => job.data.reportId === id).length).toBeGreaterThanOrEqual(4);
      expect(done.items_count).toBe(reference.items_count);
      expect(done.summary).toEqual(reference.summary);
      expect(done.file!.name).toBe(`VOICE-CALL_${id}.jsonl.gz`);
      const text = gunzipSync(await cluster.download(done)).toString('utf8');
      expect(text).toBe(gunzipSync(await cluster.download(reference)).toString('utf8'));
      // One object per line, the first included: no part carried a header.
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(done.items_count!);
      expect(lines.every((line) => line.startsWith('{"id":"'))).toBe(true);
      expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);
    } finally {
      // The next test starts with no worker running.
      for (const worker of workers) await worker.stop();
    }
  }, 180_000);

  it('builds, across two workers, the same file and summary as a single job', async () => {
    // The single-job reference, from a worker that never fans out (the default threshold is millions of rows).
    await cluster.startWorker();
    const single = (await cluster.createReport(key, body)).request_id;
    const reference = await cluster.waitForStatus(key, single, ['SUCCESS', 'FAILED'], 60_000);
    expect(reference.request_status).toBe('SUCCESS');
    await cluster.stopWorker();

    const fanOut = { REPORT_FANOUT_ROWS: '1000', REPORT_SEGMENT_ROWS: '7000', REPORT_SEGMENT_CONCURRENCY: '1' };
    for (let i = 0; i < 2; i++) {
      const worker = cluster.spawn('worker', fanOut);
      await worker.ready();
    }
    const id = (await cluster.createReport(key, body)).request_id;
    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED'], 90_000);
    expect({ status: done.request_status, error: done.error }).toEqual({ status: 'SUCCESS', error: undefined });

    const parts = (await segments.getJobs(['completed'])).filter((job) => job.data.reportId === id);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    expect(done.items_count).toBe(reference.items_count);
    expect(done.summary).toEqual(reference.summary);
    const csv = gunzipSync(await cluster.download(done)).toString('utf8');
    expect(csv).toBe(gunzipSync(await cluster.download(reference)).toString('utf8'));
    expect(csv.split('\n').filter((line) => line.startsWith('id,'))).toHaveLength(1);
    // One file and its manifest: the parts were joined and removed.
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);
  }, 180_000);

  it('aborts every segment of a cancelled report and leaves no object', async () => {
    const id = (await cluster.createReport(key, body)).request_id;
    await waitFor(async () => (await segments.getJob(`${id}.0`)) !== undefined || undefined, { timeoutMs: 30_000, what: 'the report to fan out' });
    expect((await cluster.request('DELETE', `/v1/reports/${id}`, key)).status).toBeLessThan(300);
    expect(((await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource).request_status).toBe('ABORTED');
    // The parent runs once every segment has ended, and deletes whatever parts a segment stored before it stopped.
    const assembly = new Queue(QUEUES.reportAssembly, { connection: redis, prefix: cluster.services.prefix });
    try {
      await waitFor(async () => (await (await assembly.getJob(id))?.getState()) === 'completed' || undefined, {
        timeoutMs: 30_000,
        what: 'the parent of the cancelled report to finish',
      });
    } finally {
      await assembly.close();
    }
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([]);
  }, 90_000);
});
