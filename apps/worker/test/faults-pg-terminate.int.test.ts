import { generateCdrs } from '@cdr-reports/cdr-store';
import {
  readReportFile,
  receivedForReport,
  useReportCluster,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  type ReportResource,
  type WebhookReceiver,
} from '@cdr-reports/testing';

/**
 * PostgreSQL ends the worker's export connection in the middle of a COPY (pg_terminate_backend, as an
 * administrator, a failover or a crashed backend would): the attempt fails, the report is retried, and it
 * ends SUCCESS with every row exactly once, one object, and its callback delivered. The worker survives.
 */
describe('fault: the worker’s PostgreSQL connection terminated mid-COPY', () => {
  const env = { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms' };
  const cluster = useReportCluster({ worker: false, notifier: true, env });
  let receiver: WebhookReceiver;
  let key: string;
  let secret: string;

  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  const ROWS = 200_000;

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;

  beforeAll(async () => {
    receiver = await cluster.receiver();
    key = await cluster.account('carrier');
    secret = await webhookSecret(cluster.services.db.pool, 'carrier');
    await cluster.load([...generateCdrs({ rows: ROWS, accounts: ['carrier'], from, to, seed: 31, products: ['VOICE-CALL'] })]);
  }, 90_000);

  it('retries the report, which ends SUCCESS with every row once and its callback delivered', async () => {
    // Level 9: slow enough for the COPY to be caught streaming.
    const worker = cluster.spawn('worker', { ...env, REPORT_COMPRESSION_LEVEL: '9' });
    // Its whole log (AppProcess.log keeps only the end), to tell how the attempt failed.
    let log = '';
    for (const stream of [worker.child.stdout!, worker.child.stderr!]) stream.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    await worker.ready();

    const expected = await cluster.services.db.pool.query<{ id: string }>(
      `SELECT id::text FROM cdrs WHERE account_id = 'carrier' AND product = 'VOICE-CALL' AND start_time >= $1 AND start_time < $2
       ORDER BY start_time, id`,
      [from, to],
    );
    const expectedIds = expected.rows.map((r) => r.id);
    expect(expectedIds.length).toBe(ROWS);

    const body = { product: 'VOICE-CALL', date_start: from.toISOString(), date_end: to.toISOString(), callback_url: receiver.url('/pg-fault') };
    const id = (await cluster.createReport(key, body)).request_id;
    const midway = await waitFor(
      async () => {
        const report = await get(id);
        if (!['PENDING', 'PROCESSING'].includes(report.request_status)) throw new Error(`the report reached ${report.request_status} too early`);
        return report.request_status === 'PROCESSING' && report.progress!.items_processed > 0 ? report : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, what: 'the report to be PROCESSING with progress' },
    );
    expect(midway.progress!.items_processed).toBeLessThan(ROWS);

    // The worker's export backend of this suite's database only (other suites and benchmarks share the server).
    const terminated = await waitFor(
      async () => {
        const result = await cluster.services.db.pool.query<{ pid: number; terminated: boolean }>(
          `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'cdr-reports-worker' AND query LIKE 'COPY%'`,
        );
        return result.rows.some((row) => row.terminated) ? result.rows : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10, what: 'the worker’s COPY backend to be terminated' },
    );
    expect(terminated.length).toBeGreaterThanOrEqual(1);
    const afterTerminate = await get(id);
    expect(afterTerminate.request_status).toBe('PROCESSING');

    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED', 'ABORTED'], 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\nworker log:\n${worker.log}`);
    });
    expect({ status: done.request_status, error: done.error }).toEqual({ status: 'SUCCESS', error: undefined });
    expect(done.items_count).toBe(ROWS);
    expect(done.summary).toMatchObject({ records: ROWS });
    // The terminated attempt counted, and the report was built again from scratch.
    const { attempts } = (await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0];
    expect(attempts).toBe(2);
    const retried = log.split('\n').filter((line) => line.includes('report attempt failed; it will be retried'));
    expect(retried).toHaveLength(1);
    expect(retried[0]).toContain('"code":"DATABASE_UNAVAILABLE"');

    // The file holds every matching record exactly once, in order (read with gunzip and Python's csv module).
    const file = await readReportFile(await cluster.download(done), 'gzip');
    expect(file.header[0]).toBe('id');
    expect(file.rows).toHaveLength(done.items_count!);
    const ids = file.rows.map((row) => row[0]!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expectedIds);
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);

    // One report.completed event, delivered, carrying the report as it ended.
    expect((await waitForCallbackState(cluster, key, id, ['delivered', 'failed'], 20_000)).state).toBe('delivered');
    const callbacks = receivedForReport(receiver.received, id);
    expect(callbacks.length).toBeGreaterThanOrEqual(1);
    expect(new Set(callbacks.map((c) => c.headers['webhook-id'])).size).toBe(1);
    const event = verifyWebhook(secret, callbacks[0]!);
    expect(event.type).toBe('report.completed');
    expect(event.data).toMatchObject({ request_id: id, request_status: 'SUCCESS', items_count: ROWS });

    // The worker lived through its connection's death, and stops cleanly.
    expect(worker.alive).toBe(true);
    await worker.stop();
    expect((await worker.exited).code).toBe(0);
  }, 150_000);
});
