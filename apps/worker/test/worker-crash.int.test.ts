import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, DeleteBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { Queue } from 'bullmq';
import { CsvParser, generateCdrs } from '@cdr-reports/cdr-store';
import { S3ObjectStore } from '@cdr-reports/object-store';
import { useReportCluster, waitFor, type ReportResource } from '@cdr-reports/testing';


/**
 * A worker killed with SIGKILL in the middle of a report: its job's lock lapses (JOB_LOCK_DURATION=2s),
 * another worker takes the job over, and the report ends SUCCESS with a complete file, exactly once, and no
 * multipart upload of the killed run left holding parts.
 * And a report whose every attempt fails ends FAILED with a reason the caller can act on.
 */
describe('a worker killed mid-report', () => {
  // Every report here in the standard lane, where this test looks for its job.
  const cluster = useReportCluster({ worker: false, env: { JOB_LOCK_DURATION: '2s', REPORT_LARGE_ROWS: '100000000' } });
  let queue: Queue;
  let key: string;
  let inProcessWorker = false;

  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  const ROWS = 400_000;

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  /** Multipart uploads begun and neither completed nor aborted, under `prefix`. */
  const unfinishedUploads = async (prefix: string) => {
    const { client, bucket } = cluster.services.s3;
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    return (listed.Uploads ?? []).map((upload) => upload.Key);
  };
  async function startInProcessWorker(): Promise<void> {
    if (inProcessWorker) return;
    await cluster.startWorker();
    inProcessWorker = true;
  }

  beforeAll(async () => {
    key = await cluster.account('carrier');
    await cluster.load([...generateCdrs({ rows: ROWS, accounts: ['carrier'], from, to, seed: 11 })]);
    queue = cluster.reportQueue().queue;
  }, 90_000);

  it('is taken over by another worker; the report succeeds with every row exactly once and one object', async () => {
    // Level 9 makes the first worker slow enough to be caught mid-report.
    const first = cluster.spawn('worker', { JOB_LOCK_DURATION: '2s', REPORT_COMPRESSION_LEVEL: '9', REPORT_LARGE_ROWS: '100000000' });
    await first.ready();

    const body = { product: 'VOICE-CALL', date_start: from.toISOString(), date_end: to.toISOString() };
    const expected = await cluster.services.db.pool.query<{ id: string }>(
      `SELECT id::text FROM cdrs WHERE account_id = 'carrier' AND product = 'VOICE-CALL' AND start_time >= $1 AND start_time < $2
       ORDER BY start_time, id`,
      [from, to],
    );
    const expectedIds = expected.rows.map((r) => r.id);
    expect(expectedIds.length).toBeGreaterThan(100_000);

    const id = (await cluster.createReport(key, body)).request_id;
    const midway = await waitFor(
      async () => {
        const report = await get(id);
        if (report.request_status !== 'PENDING' && report.request_status !== 'PROCESSING') {
          throw new Error(`the report reached ${report.request_status} before the worker could be killed`);
        }
        if (report.request_status !== 'PROCESSING' || report.progress!.items_processed === 0) return undefined;
        // Killed once its multipart upload has parts: what a crash leaves behind in the bucket.
        return (await unfinishedUploads(`reports/carrier/${id}/`)).length > 0 ? report : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 10, what: 'the report to be PROCESSING with progress and a multipart upload begun' },
    );
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');

    // Killed mid-report: still PROCESSING, partly done, and its job still holds a lock no one renews.
    const afterKill = await get(id);
    expect(afterKill.request_status).toBe('PROCESSING');
    expect(midway.progress!.items_processed).toBeLessThan(expectedIds.length);
    expect(await (await queue.getJob(id))?.getState()).toBe('active');
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([]);
    expect(await unfinishedUploads(`reports/carrier/${id}/`)).toHaveLength(1);

    await startInProcessWorker();
    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED'], 45_000);
    expect({ status: done.request_status, error: done.error }).toEqual({ status: 'SUCCESS', error: undefined });
    expect(done.items_count).toBe(expectedIds.length);
    expect(done.summary).toMatchObject({ records: expectedIds.length });
    const attempts = (await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0].attempts;
    expect(attempts).toBe(2);

    // The file holds every matching record once, in order: the same ids as the store, first to last.
    const csv = gunzipSync(await cluster.download(done)).toString('utf8');
    const rows: string[][] = [];
    const malformed: string[] = [];
    const parser = new CsvParser({ record: (fields) => rows.push(fields), malformed: (line, reason) => malformed.push(`${line}: ${reason}`) });
    parser.push(csv);
    parser.end();
    expect(malformed).toEqual([]);
    const [header, ...data] = rows;
    expect(header?.[0]).toBe('id');
    expect(data).toHaveLength(done.items_count!);
    const ids = data.map((row) => row[0]!);
    expect(ids[0]).toBe(expectedIds[0]);
    expect(ids[ids.length - 1]).toBe(expectedIds[expectedIds.length - 1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expectedIds);

    // Exactly one object: the re-run replaced the file whole, nothing of the killed run remains.
    expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);
    // And no multipart upload of the killed run is left holding its parts.
    expect(await unfinishedUploads('reports/')).toEqual([]);
  }, 120_000);

  it('a report whose every attempt fails ends FAILED with a reason the caller can act on', async () => {
    await startInProcessWorker();
    const { client, bucket } = cluster.services.s3;
    // The storage is gone (a deleted or misnamed bucket): every attempt fails the same way.
    await new S3ObjectStore({ client, bucket }).deletePrefix('reports/');
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    try {
      const body = { product: 'SMS', date_start: new Date(to.getTime() - DAY).toISOString(), date_end: to.toISOString() };
      const id = (await cluster.createReport(key, body)).request_id;
      const failed = await waitFor(
        async () => {
          // Retries wait out an exponential backoff (5 s, then 10 s); promoted here so the test need not.
          const job = await queue.getJob(id);
          if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
          const report = await get(id);
          return ['SUCCESS', 'FAILED'].includes(report.request_status) ? report : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'the report to fail' },
      );
      expect(failed).toMatchObject({
        request_status: 'FAILED',
        error: { code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/could not be stored.*create the report again later/) },
        items_count: null,
        expires_at: null,
      });
      expect(failed._links.download_report).toBeUndefined();
      // No internals leak to the caller.
      expect(failed.error!.message).not.toMatch(/NoSuchBucket|cdr-test-|http:\/\//);
      // The report is marked FAILED as the last attempt ends; the job itself is moved to failed right after.
      await waitFor(async () => (await queue.getJob(id))?.isFailed(), { timeoutMs: 5_000, what: 'the job to fail' });
      expect((await queue.getJob(id))?.attemptsMade).toBe(3);
      const attempts = (await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0].attempts;
      expect(attempts).toBe(3);
      const download = await cluster.request('GET', `/v1/reports/${id}/download`, key);
      expect(download.status).toBe(409);
      expect(download.body.detail).toMatch(/FAILED/);
    } finally {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    }
    // Asking again once the storage is back works, as the reason says.
    const again = await cluster.createReport(key, { product: 'SMS', date_start: new Date(to.getTime() - DAY).toISOString(), date_end: to.toISOString() });
    expect((await cluster.waitForStatus(key, again.request_id, ['SUCCESS', 'FAILED'])).request_status).toBe('SUCCESS');
  }, 60_000);
});
