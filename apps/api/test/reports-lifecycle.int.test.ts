import { gunzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { CdrRecord } from '@cdr-reports/domain';
import {
  cdrFactory,
  minutesAfter,
  waitFor,
  yesterdayAtUtc,
  useReportCluster,
  type ReportQueueProbe,
  type ReportResource,
} from '@cdr-reports/testing';

/**
 * A report's life through the API with a real worker: PENDING -> PROCESSING -> SUCCESS, the download link,
 * DELETE in every state, and what download answers in each. The worker exports in one-minute segments
 * (a test override), so a month-long report stays PROCESSING long enough to be cancelled mid-run.
 */
describe('report lifecycle', () => {
  const cluster = useReportCluster({ workerOptions: { segmentMs: 60_000, abortPollMs: 100 } });
  let jobs: ReportQueueProbe;
  let key: string;

  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const TERMINAL = ['SUCCESS', 'FAILED', 'ABORTED', 'EXPIRED'];
  // Yesterday 10:00-11:00 UTC: where the records are.
  const windowStart = yesterdayAtUtc(10);
  const body = (extra: Record<string, unknown> = {}) => ({
    product: 'SMS',
    date_start: new Date(windowStart).toISOString(),
    date_end: new Date(windowStart + HOUR).toISOString(),
    ...extra,
  });

  const sms = cdrFactory({ startTime: minutesAfter(windowStart), columns: { end_time: null, price: '0.0400', total_price: '0.0400', message_body: null } });
  /** A record of acme's, one a minute from the window's start. */
  const record = (product: 'SMS' | 'MESSAGES'): CdrRecord => sms({ product });
  const SMS_RECORDS = 20;

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  const download = (id: string) => cluster.request('GET', `/v1/reports/${id}/download`, key);
  const remove = (id: string) => cluster.request('DELETE', `/v1/reports/${id}`, key);
  async function objectBytes(key: string): Promise<Buffer> {
    const { client, bucket } = cluster.services.s3;
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }
  const jobState = async (id: string) => (await jobs.queue.getJob(id))?.getState();
  /** Waits for a terminal status; retries waiting out their backoff are promoted, so a failure shows at once. */
  async function settle(id: string): Promise<ReportResource> {
    return waitFor(
      async () => {
        const job = await jobs.queue.getJob(id);
        if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
        const report = await get(id);
        return TERMINAL.includes(report.request_status) ? report : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `report ${id} to finish` },
    );
  }
  function expectProblem(response: Awaited<ReturnType<typeof download>>, status: number): void {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toMatchObject({ status, detail: expect.any(String) });
  }

  beforeAll(async () => {
    key = await cluster.account('acme');
    await cluster.load([...Array.from({ length: SMS_RECORDS }, () => record('SMS')), record('MESSAGES'), record('MESSAGES')]);
    jobs = cluster.reportQueue();
  });

  describe('a report that succeeds', () => {
    let report: ReportResource;

    beforeAll(async () => {
      const created = await cluster.createReport(key, body());
      expect(created).toMatchObject({ request_status: 'PENDING', progress: { items_processed: 0, percent: 0 } });
      report = await cluster.waitForStatus(key, created.request_id, ['SUCCESS']);
    });

    it('reads SUCCESS with counts, summary, file, expiry and a download link, and no progress or error', () => {
      const id = report.request_id;
      expect(report).toMatchObject({
        request_status: 'SUCCESS',
        product: 'SMS',
        account_id: 'acme',
        items_count: SMS_RECORDS,
        summary: { records: SMS_RECORDS },
        file: { name: `SMS_${id}.csv.gz`, size_bytes: expect.any(Number), content_type: 'application/gzip' },
        _links: { self: { href: `/v1/reports/${id}` }, download_report: { href: expect.stringMatching(/^https?:\/\//) } },
      });
      expect(report.file!.size_bytes).toBeGreaterThan(0);
      expect(report).not.toHaveProperty('progress');
      expect(report).not.toHaveProperty('error');
      const received = Date.parse(report.receive_time as string);
      const started = Date.parse(report.start_time as string);
      const ended = Date.parse(report.end_time as string);
      expect(received).toBeLessThanOrEqual(started);
      expect(started).toBeLessThanOrEqual(ended);
      // expires_at = end_time + REPORT_TTL (72 h by default).
      expect(Date.parse(report.expires_at!) - ended).toBe(72 * HOUR);
    });

    it('download answers 302 to a presigned link whose bytes are the stored object', async () => {
      const response = await download(report.request_id);
      expect(response.status).toBe(302);
      expect(response.headers['cache-control']).toBe('no-store');
      const location = response.headers.location as string;
      expect(location).toMatch(/X-Amz-Signature=/);
      // The link dies with the report: signed at X-Amz-Date for X-Amz-Expires seconds, it ends at expires_at
      // (rounded up to the second).
      const query = new URL(location).searchParams;
      const signedAt = Date.parse(query.get('X-Amz-Date')!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
      const linkEnds = signedAt + Number(query.get('X-Amz-Expires')) * 1000;
      expect(Math.abs(linkEnds - Date.parse(report.expires_at!))).toBeLessThanOrEqual(2_000);
      const fetched = await fetch(location);
      expect(fetched.status).toBe(200);
      const bytes = Buffer.from(await fetched.arrayBuffer());
      const objectKey = `reports/acme/${report.request_id}/${report.file!.name}`;
      expect(bytes.equals(await objectBytes(objectKey))).toBe(true);
      expect(bytes.length).toBe(report.file!.size_bytes);
      // A header and one line per record.
      expect(gunzipSync(bytes).toString('utf8').trimEnd().split('\n')).toHaveLength(SMS_RECORDS + 1);
    });

    it('DELETE deletes the file now and the report reads EXPIRED; download is 410; DELETE again is harmless', async () => {
      const id = report.request_id;
      const prefix = `reports/acme/${id}/`;
      const oldLink = (await download(id)).headers.location as string;
      // The file and its manifest.
      expect(await cluster.objectKeys(prefix)).toHaveLength(2);

      const deleted = await remove(id);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ request_id: id, request_status: 'EXPIRED', items_count: SMS_RECORDS });
      expect(deleted.body._links.download_report).toBeUndefined();
      expect(Date.parse(deleted.body.expires_at)).toBeLessThanOrEqual(Date.now());
      expect(await cluster.objectKeys(prefix)).toEqual([]);
      const row = await cluster.services.db.pool.query('SELECT status, file_deleted_at FROM reports WHERE id = $1', [id]);
      expect(row.rows[0]).toMatchObject({ status: 'EXPIRED', file_deleted_at: expect.any(Date) });

      expect((await get(id)).request_status).toBe('EXPIRED');
      expect((await get(id))._links.download_report).toBeUndefined();
      expectProblem(await download(id), 410);
      // A link handed out before the DELETE no longer downloads anything.
      expect((await fetch(oldLink)).ok).toBe(false);

      const again = await remove(id);
      expect(again.status).toBe(200);
      expect(again.body.request_status).toBe('EXPIRED');
      expectProblem(await download(id), 410);
    });
  });

  it('DELETE of a PENDING report aborts it and removes its job; it never runs', async () => {
    await cluster.stopWorker();
    let id: string;
    try {
      id = (await cluster.createReport(key, body())).request_id;
      expect(await jobState(id)).toBe('waiting');
      expectProblem(await download(id), 409);

      const deleted = await remove(id);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ request_status: 'ABORTED', start_time: null });
      expect(deleted.body).not.toHaveProperty('progress');
      expect(deleted.body._links.download_report).toBeUndefined();
      expect(await jobs.queue.getJob(id)).toBeUndefined();
      expectProblem(await download(id), 410);
      expect((await remove(id)).body.request_status).toBe('ABORTED');
    } finally {
      await cluster.startWorker();
    }
    // A report created after it finishes; the queue is FIFO, so had the aborted one still been queued, it would have run first.
    const later = await cluster.createReport(key, body());
    await cluster.waitForStatus(key, later.request_id, ['SUCCESS']);
    expect(await get(id)).toMatchObject({ request_status: 'ABORTED', start_time: null });
    const row = await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id]);
    expect(row.rows[0].attempts).toBe(0);
  });

  it('DELETE of a PROCESSING report aborts it within 5 s and leaves no object behind', async () => {
    // A month in one-minute segments: tens of thousands of COPY statements, PROCESSING for a long time.
    const created = await cluster.createReport(key, body({ date_start: new Date(windowStart - 30 * DAY).toISOString() }));
    const id = created.request_id;
    const processing = await waitFor(
      async () => {
        const report = await get(id);
        return report.request_status === 'PROCESSING' && report.progress!.percent > 0 ? report : undefined;
      },
      { timeoutMs: 20_000, what: 'the report to be PROCESSING with progress' },
    );
    expect(processing).toMatchObject({
      start_time: expect.any(String),
      end_time: null,
      items_count: null,
      expires_at: null,
      progress: { items_processed: expect.any(Number), percent: expect.any(Number) },
    });
    expect(processing.progress!.percent).toBeLessThan(100);
    expect(processing._links.download_report).toBeUndefined();
    expectProblem(await download(id), 409);
    expect(await jobState(id)).toBe('active');

    const deletedAt = Date.now();
    const deleted = await remove(id);
    expect(deleted.status).toBe(200);
    expect(deleted.body.request_status).toBe('ABORTED');
    expect(deleted.body._links.download_report).toBeUndefined();

    // The worker notices and stops: its job ends (as "aborted") within 5 s of the DELETE.
    await waitFor(async () => ['completed', 'failed'].includes((await jobState(id)) ?? ''), {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'the worker to stop the aborted report',
    });
    expect(Date.now() - deletedAt).toBeLessThan(5_000);
    const job = await jobs.queue.getJob(id);
    expect(await job?.getState()).toBe('completed');
    expect(job?.returnvalue).toEqual({ outcome: 'aborted' });

    // Once the worker has let go, nothing can appear any more: there is no object, and the report stays ABORTED.
    expect(await cluster.objectKeys(`reports/acme/${id}/`)).toEqual([]);
    expect(await get(id)).toMatchObject({ request_status: 'ABORTED' });
    expectProblem(await download(id), 410);
    expect((await remove(id)).body.request_status).toBe('ABORTED');
  });

  it('builds a report in every time zone the API accepts (or rejects the zone with 400)', async () => {
    // Zones ICU still knows as aliases; a request the API accepts must be one the worker can build.
    for (const timezone of ['US/Pacific-New', 'Canada/East-Saskatchewan']) {
      const response = await cluster.request('POST', '/v1/reports', key, body({ timezone }));
      if (response.status === 400) {
        expect(response.body.invalid_params).toEqual([{ name: 'timezone', reason: expect.any(String) }]);
        continue;
      }
      expect(response.status).toBe(202);
      const id = response.body.request_id as string;
      const final = await settle(id);
      const attempts = (await cluster.services.db.pool.query('SELECT attempts FROM reports WHERE id = $1', [id])).rows[0].attempts;
      expect({ timezone, status: final.request_status, error: final.error, attempts }).toEqual({
        timezone,
        status: 'SUCCESS',
        error: undefined,
        attempts: 1,
      });
    }
  });
});
