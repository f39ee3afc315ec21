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
 * The S3 server goes away for 20 s in the middle of a report's multipart upload, then comes back on the same
 * port with the same files. Within its retries the report either completes once S3 is back, with a complete
 * file, or fails with STORAGE_UNAVAILABLE and no file; never SUCCESS with a broken file. Either way its
 * callback is delivered and the worker survives.
 */
describe('fault: S3 down for 20 s during an upload', () => {
  const env = { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms' };
  const cluster = useReportCluster({ restartableS3: true, worker: false, notifier: true, env });
  let receiver: WebhookReceiver;
  let key: string;
  let secret: string;

  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  // About 110 MB of CSV: several 8 MiB parts even compressed, so the outage falls between parts.
  const ROWS = 350_000;
  const OUTAGE_MS = 20_000;

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;

  /** Where a report that did not finish stands: its row, the worker's database sessions, the upload's parts. */
  async function diagnosis(id: string): Promise<string> {
    const pool = cluster.services.db.pool;
    const report = (await pool.query('SELECT status, attempts, progress_items, progress_percent, updated_at FROM reports WHERE id = $1', [id])).rows[0];
    const sessions = (
      await pool.query(
        `SELECT state, wait_event_type, wait_event, now() - state_change AS for, left(query, 60) AS query FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'cdr-reports-worker'`,
      )
    ).rows;
    return `report: ${JSON.stringify(report)}\nworker sessions: ${JSON.stringify(sessions)}\nstored parts: ${await cluster.s3.storedParts()}`;
  }

  beforeAll(async () => {
    receiver = await cluster.receiver();
    key = await cluster.account('carrier');
    secret = await webhookSecret(cluster.services.db.pool, 'carrier');
    await cluster.load([...generateCdrs({ rows: ROWS, accounts: ['carrier'], from, to, seed: 41, products: ['VOICE-CALL'] })]);
  }, 90_000);

  it('completes after S3 returns with a complete file, or fails with STORAGE_UNAVAILABLE; never SUCCESS with a broken file', async () => {
    const worker = cluster.spawn('worker', env);
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

    const body = { product: 'VOICE-CALL', date_start: from.toISOString(), date_end: to.toISOString(), callback_url: receiver.url('/s3-fault') };
    const id = (await cluster.createReport(key, body)).request_id;
    // Mid-upload: a first part is stored and the report is still being built.
    await waitFor(
      async () => {
        const report = await get(id);
        if (!['PENDING', 'PROCESSING'].includes(report.request_status)) throw new Error(`the report reached ${report.request_status} too early`);
        return report.request_status === 'PROCESSING' && (await cluster.s3.storedParts()) >= 1;
      },
      { timeoutMs: 30_000, intervalMs: 10, what: 'the report’s upload to have stored a part' },
    );
    const outageStart = Date.now();
    const stopping = cluster.s3.stop();
    expect((await get(id)).request_status).toBe('PROCESSING');
    await stopping;
    // Down for the whole outage: whatever the worker does meanwhile meets a closed port.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageStart + OUTAGE_MS - Date.now())));
    // Nothing can have been stored meanwhile.
    expect((await get(id)).request_status).not.toBe('SUCCESS');
    await cluster.s3.start();

    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED', 'ABORTED'], 45_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await diagnosis(id)}\nworker log:\n${log.slice(-6000)}`);
    });
    const { attempts } = (await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0];
    const failures = log.split('\n').filter((line) => /report attempt failed|report failed/.test(line));
    // Every failed attempt was put down to the storage, not to anything else.
    for (const line of failures) expect(line).toContain('"code":"STORAGE_UNAVAILABLE"');
    expect(failures.length).toBeGreaterThanOrEqual(1);

    if (done.request_status === 'SUCCESS') {
      // S3 came back within the retries: the file is complete, every row once, one object.
      expect(done.error).toBeUndefined();
      expect(done.items_count).toBe(ROWS);
      expect(attempts).toBeGreaterThanOrEqual(2);
      const file = await readReportFile(await cluster.download(done), 'gzip');
      expect(file.rows).toHaveLength(done.items_count!);
      const ids = file.rows.map((row) => row[0]!);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expectedIds);
      expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`]);
    } else {
      // The retries ran out while S3 was away: a reason the caller can act on, no file, no link.
      expect(done).toMatchObject({
        request_status: 'FAILED',
        error: { code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/could not be stored.*create the report again later/) },
        items_count: null,
      });
      expect(done._links.download_report).toBeUndefined();
      expect(attempts).toBe(3);
      expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([]);
    }

    // The event of how it ended is delivered.
    expect((await waitForCallbackState(cluster, key, id, ['delivered', 'failed'], 20_000)).state).toBe('delivered');
    const callbacks = receivedForReport(receiver.received, id);
    expect(new Set(callbacks.map((c) => c.headers['webhook-id'])).size).toBe(1);
    const event = verifyWebhook(secret, callbacks[0]!);
    expect(event.type).toBe(done.request_status === 'SUCCESS' ? 'report.completed' : 'report.failed');
    expect(event.data).toMatchObject({ request_id: id, request_status: done.request_status, items_count: done.items_count });

    expect(worker.alive).toBe(true);
    await worker.stop();
    expect((await worker.exited).code).toBe(0);
  }, 150_000);
});
