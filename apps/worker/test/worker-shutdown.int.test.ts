import { gunzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { generateCdrs } from '@cdr-reports/cdr-store';
import { QUEUES } from '@cdr-reports/jobs';
import { useReportCluster, waitFor, type AppProcess, type ReportResource } from '@cdr-reports/testing';

/**
 * SIGTERM to a worker during a report: it takes no new job, finishes the running report within SHUTDOWN_TIMEOUT
 * or, shortly before its end, hands it back to the queue; either way it exits 0 and the report ends SUCCESS
 * with every row, built once by whichever worker finished it. A running segment of a fanned-out report is
 * handed back the same way.
 */
describe('a worker stopped with SIGTERM mid-report', () => {
  const cluster = useReportCluster({ worker: false });
  let redis: Redis;
  let queue: Queue;
  let key: string;
  const processes: AppProcess[] = [];
  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  const ROWS = 300_000;
  const body = { product: 'VOICE-CALL', date_start: from.toISOString(), date_end: to.toISOString() };
  let expectedRows = 0;

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  async function startWorker(env: Record<string, string>): Promise<AppProcess> {
    // Every report here in the standard lane, where this test looks for its job.
    const worker = cluster.spawn('worker', { REPORT_LARGE_ROWS: '100000000', ...env });
    processes.push(worker);
    await worker.ready();
    return worker;
  }
  /** Submits the report and waits until the worker is in the middle of it. */
  async function reportInProgress(): Promise<string> {
    const id = (await cluster.createReport(key, body)).request_id;
    await waitFor(
      async () => {
        const report = await get(id);
        if (!['PENDING', 'PROCESSING'].includes(report.request_status)) throw new Error(`the report reached ${report.request_status} too early`);
        return report.request_status === 'PROCESSING' && report.progress!.items_processed > 0 ? report : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, what: 'the report to be PROCESSING with progress' },
    );
    return id;
  }
  async function expectCompleteReport(id: string): Promise<void> {
    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED'], 60_000);
    expect({ status: done.request_status, error: done.error }).toEqual({ status: 'SUCCESS', error: undefined });
    expect(done.items_count).toBe(expectedRows);
    const lines = gunzipSync(await cluster.download(done)).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(expectedRows + 1);
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);
  }

  beforeAll(async () => {
    key = await cluster.account('carrier');
    await cluster.load([...generateCdrs({ rows: ROWS, accounts: ['carrier'], from, to, seed: 5, products: ['VOICE-CALL'] })]);
    expectedRows = Number(
      (await cluster.services.db.pool.query(`SELECT count(*) FROM cdrs WHERE start_time >= $1 AND start_time < $2`, [from, to])).rows[0].count,
    );
    ({ redis, queue } = cluster.reportQueue());
  }, 90_000);

  it('finishes the running report within the deadline, takes no new one, and exits 0', async () => {
    const worker = await startWorker({ SHUTDOWN_TIMEOUT: '60s', REPORT_COMPRESSION_LEVEL: '9' });
    const id = await reportInProgress();
    const stopped = worker.stop();
    // Submitted once the worker is stopping: it must not take it.
    await waitFor(() => worker.log.includes('shutting down'), { timeoutMs: 10_000, intervalMs: 10, what: 'the worker to begin its shutdown' });
    const later = (await cluster.createReport(key, body)).request_id;
    await stopped;
    expect((await worker.exited).code).toBe(0);
    expect(worker.log).toContain('running reports finished');
    await expectCompleteReport(id);
    expect((await get(later)).request_status).toBe('PENDING');

    // Left for the next worker, as any queued report.
    await startWorker({});
    await expectCompleteReport(later);
  }, 120_000);

  it('hands a report that cannot finish in time back to the queue, exits 0, and another worker builds it', async () => {
    const worker = await startWorker({ SHUTDOWN_TIMEOUT: '4s', REPORT_COMPRESSION_LEVEL: '9' });
    // The worker of the first test is still running: stop it so that this report goes to the new one.
    for (const other of processes.filter((p) => p !== worker)) await other.stop();
    const id = await reportInProgress();
    const signalled = Date.now();
    await worker.stop();
    expect((await worker.exited).code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(4_000);
    expect(worker.log).toContain('handed back to the queue');

    // Not failed, no attempt spent, no file: the report waits for another worker.
    expect((await get(id)).request_status).toBe('PROCESSING');
    const job = (await queue.getJob(id))!;
    expect(await job.getState()).toMatch(/^(waiting|delayed|prioritized)$/);
    expect(job.attemptsMade).toBe(0);
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([]);

    await startWorker({});
    await expectCompleteReport(id);
  }, 120_000);

  it('hands a running segment of a fanned-out report back to the queue as well, and the report completes', async () => {
    for (const other of processes) if (other.alive) await other.stop();
    // About 300,000 rows estimated: two segments, exported one at a time, slowly (level 9).
    const fanOut = { REPORT_FANOUT_ROWS: '100000', REPORT_SEGMENT_ROWS: '150000', REPORT_COMPRESSION_LEVEL: '9' };
    const worker = await startWorker({ ...fanOut, SHUTDOWN_TIMEOUT: '4s' });
    const segments = new Queue(QUEUES.reportSegments, { connection: redis, prefix: cluster.services.prefix });
    try {
      // The estimate that decides the fan-out comes from the planner's statistics.
      await cluster.services.db.pool.query('ANALYZE cdrs');
      const id = (await cluster.createReport(key, body)).request_id;
      await waitFor(async () => (await segments.getActiveCount()) > 0 || undefined, { timeoutMs: 30_000, intervalMs: 10, what: 'a segment to be running' });
      await worker.stop();
      expect((await worker.exited).code).toBe(0);
      expect(worker.log).toContain('segment handed back to the queue');

      // No attempt spent on any segment, the report still PROCESSING, no file yet.
      const children = await segments.getJobs(['waiting', 'delayed', 'prioritized', 'completed']);
      const mine = children.filter((job) => (job.data as { reportId?: string }).reportId === id);
      expect(mine).toHaveLength(2);
      expect(mine.map((job) => job.attemptsMade)).toEqual([0, 0]);
      expect((await get(id)).request_status).toBe('PROCESSING');

      await startWorker(fanOut);
      await expectCompleteReport(id);
    } finally {
      await segments.close();
    }
  }, 120_000);
});
