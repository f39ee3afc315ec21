import { randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { subtractPeriod } from '@cdr-reports/config';
import { ReportsRepository } from '@cdr-reports/db';
import { parseReportRequest } from '@cdr-reports/domain';
import { JOBS } from '@cdr-reports/jobs';
import {
  cdrFactory,
  openReportRunner,
  minutesAfter,
  waitFor,
  yesterdayAtUtc,
  useReportCluster,
  type ReportQueueProbe,
  type ReportResource,
} from '@cdr-reports/testing';

/**
 * Expiry and the report sweeper, with REPORT_TTL=3s. A report reads EXPIRED from expires_at on whether or not
 * the sweeper has run; the sweeper then deletes the file and records it, and recovers reports whose job was
 * lost (enqueued again) or failed for good (marked FAILED with the job's reason). The in-process worker
 * builds the reports; the sweeper is called directly, as its scheduled job would.
 */
describe('report expiry and the report sweeper', () => {
  const HOUR = 3_600_000;
  const TTL_MS = 3_000;
  const cluster = useReportCluster({ env: { REPORT_TTL: `${TTL_MS / 1000}s` } });
  let jobs: ReportQueueProbe;
  let runner: Awaited<ReturnType<typeof openReportRunner>>;
  let reports: ReportsRepository;
  let key: string;

  const windowStart = yesterdayAtUtc(8);
  const body = { product: 'SMS', date_start: new Date(windowStart).toISOString(), date_end: new Date(windowStart + HOUR).toISOString() };
  const RECORDS = 12;

  /** One sweeper run, as the scheduled job makes it (at `now`, by default the present). */
  const sweep = (now?: Date) => runner.runner.sweep(now);
  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  const downloadStatus = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}/download`, key)).status;
  async function objectExists(objectKey: string): Promise<boolean> {
    try {
      await cluster.services.s3.client.send(new HeadObjectCommand({ Bucket: cluster.services.s3.bucket, Key: objectKey }));
      return true;
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw error;
    }
  }
  const stored = async (id: string) =>
    (await cluster.services.db.pool.query('SELECT status, file_deleted_at, error_code, error_message FROM reports WHERE id = $1', [id])).rows[0];
  /** A report recorded the way the API records one, but never enqueued (as when Redis did not answer). */
  async function orphanReport(): Promise<string> {
    const now = new Date();
    const request = parseReportRequest(body, { principalAccountId: 'acme', now, oldestDateStart: subtractPeriod(now, { months: 13, days: 0 }) });
    const { report } = await reports.create({ id: randomUUID(), requestedBy: 'acme', request });
    return report.id;
  }
  /** Makes a report look untouched for longer than the sweeper's stale threshold (2 min by default). */
  const age = (id: string) => cluster.services.db.pool.query(`UPDATE reports SET updated_at = now() - interval '3 minutes' WHERE id = $1`, [id]);
  const objectKeyOf = (report: ReportResource) => `reports/acme/${report.request_id}/${report.file!.name}`;

  /** Inbound SMS at no cost, one a minute from the window's start. */
  const sms = cdrFactory({
    startTime: minutesAfter(windowStart),
    columns: { direction: 'inbound', from: '+447700900123', to: 'ACME', end_time: null, price: '0', total_price: '0', message_body: null },
  });

  beforeAll(async () => {
    key = await cluster.account('acme');
    await cluster.load(Array.from({ length: RECORDS }, () => sms()));
    jobs = cluster.reportQueue();
    runner = await openReportRunner(cluster, jobs.redis);
    // Before the probe's own teardown: it shares the probe's connection, which closing the probe quits.
    cluster.onTeardown(() => runner.close());
    reports = new ReportsRepository(cluster.services.db.pool);
  });

  describe('expiry', () => {
    let report: ReportResource;

    beforeAll(async () => {
      const created = await cluster.createReport(key, body);
      report = await cluster.waitForStatus(key, created.request_id, ['SUCCESS']);
    });

    it('sets expires_at to end_time + REPORT_TTL, with a download link until then', () => {
      expect(Date.parse(report.expires_at!) - Date.parse(report.end_time as string)).toBe(TTL_MS);
      expect(report._links.download_report?.href).toMatch(/^https?:\/\//);
      expect(report.items_count).toBe(RECORDS);
    });

    it('still downloads in the last second before expires_at: SUCCESS always comes with a link, never "not ready"', async () => {
      const expiresAt = Date.parse(report.expires_at!);
      await waitFor(() => Date.now() >= expiresAt - 700, { timeoutMs: TTL_MS + 5_000, what: 'the last second before expires_at' });
      const resource = await get(report.request_id);
      const download = await cluster.request('GET', `/v1/reports/${report.request_id}/download`, key);
      // Both answers came before expires_at: the report was not expired yet.
      expect(Date.now()).toBeLessThan(expiresAt);
      expect({
        status: resource.request_status,
        link: resource._links.download_report !== undefined,
        download: download.status,
        detail: download.body?.detail,
      }).toEqual({ status: 'SUCCESS', link: true, download: 302, detail: undefined });
    });

    it('reads EXPIRED from expires_at on, with no link and download 410, before any sweeper ran', async () => {
      await waitFor(() => Date.now() >= Date.parse(report.expires_at!), { timeoutMs: TTL_MS + 5_000, what: 'expires_at' });
      const expired = await get(report.request_id);
      expect(expired).toMatchObject({ request_status: 'EXPIRED', items_count: RECORDS, expires_at: report.expires_at });
      expect(expired._links).toEqual({ self: { href: `/v1/reports/${report.request_id}` } });
      expect(expired).not.toHaveProperty('progress');
      expect(await downloadStatus(report.request_id)).toBe(410);
      // Nothing has been swept: the promise is kept by the API alone.
      expect(await stored(report.request_id)).toMatchObject({ status: 'SUCCESS', file_deleted_at: null });
      expect(await objectExists(objectKeyOf(report))).toBe(true);
    });

    it('lists it as EXPIRED: the status filter agrees with the status it shows', async () => {
      await waitFor(() => Date.now() >= Date.parse(report.expires_at!), { timeoutMs: TTL_MS + 5_000, what: 'expires_at' });
      const ids = async (status: string) =>
        ((await cluster.request('GET', `/v1/reports?status=${status}&limit=100`, key)).body as { items: ReportResource[] }).items.map((r) => r.request_id);
      const listed = ((await cluster.request('GET', '/v1/reports?limit=100', key)).body as { items: ReportResource[] }).items;
      expect(listed.find((r) => r.request_id === report.request_id)?.request_status).toBe('EXPIRED');
      expect({ SUCCESS: await ids('SUCCESS'), EXPIRED: await ids('EXPIRED') }).toEqual({ SUCCESS: [], EXPIRED: [report.request_id] });
    });

    it('the sweeper deletes the expired file and records it; a file not yet expired stays; a second run does nothing', async () => {
      await waitFor(() => Date.now() >= Date.parse(report.expires_at!), { timeoutMs: TTL_MS + 5_000, what: 'expires_at' });
      // A fresh report; the sweeper runs at an instant when it is still within its TTL.
      const fresh = await cluster.waitForStatus(key, (await cluster.createReport(key, body)).request_id, ['SUCCESS']);
      const beforeFreshExpires = new Date(Date.parse(fresh.expires_at!) - 1);

      expect(await sweep(beforeFreshExpires)).toEqual({ filesDeleted: 1, requeued: 0, failed: 0 });
      expect(await objectExists(objectKeyOf(report))).toBe(false);
      const swept = await stored(report.request_id);
      expect(swept).toMatchObject({ status: 'EXPIRED', file_deleted_at: expect.any(Date) });
      expect(await get(report.request_id)).toMatchObject({ request_status: 'EXPIRED' });
      expect(await downloadStatus(report.request_id)).toBe(410);
      expect(await objectExists(objectKeyOf(fresh))).toBe(true);
      expect(await stored(fresh.request_id)).toMatchObject({ status: 'SUCCESS', file_deleted_at: null });

      // Idempotent: nothing more to delete, and what was recorded stays as it was.
      expect(await sweep(beforeFreshExpires)).toEqual({ filesDeleted: 0, requeued: 0, failed: 0 });
      expect((await stored(report.request_id)).file_deleted_at).toEqual(swept.file_deleted_at);
      expect(await objectExists(objectKeyOf(fresh))).toBe(true);

      // The fresh one goes the same way once its time has come.
      await waitFor(() => Date.now() >= Date.parse(fresh.expires_at!), { timeoutMs: TTL_MS + 5_000, what: 'expires_at' });
      expect((await sweep()).filesDeleted).toBe(1);
      expect(await objectExists(objectKeyOf(fresh))).toBe(false);
      expect(await sweep()).toEqual({ filesDeleted: 0, requeued: 0, failed: 0 });
    });
  });

  describe('recovery of reports whose job was lost or failed', () => {
    it('enqueues again a stale PENDING or PROCESSING report that has no job, and it completes; a young one waits', async () => {
      const pending = await orphanReport();
      const processing = await orphanReport();
      await cluster.services.db.pool.query(`UPDATE reports SET status = 'PROCESSING', start_time = now() WHERE id = $1`, [processing]);
      const young = await orphanReport();
      await age(pending);
      await age(processing);
      for (const id of [pending, processing, young]) expect(await jobs.queue.getJob(id)).toBeUndefined();

      expect(await sweep()).toMatchObject({ requeued: 2, failed: 0 });
      for (const id of [pending, processing]) {
        const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'EXPIRED', 'FAILED']);
        expect({ id, status: done.request_status, items: done.items_count }).toEqual({ id, status: expect.stringMatching(/^(SUCCESS|EXPIRED)$/), items: RECORDS });
      }
      // Not stale yet: left alone, with no job.
      expect(await stored(young)).toMatchObject({ status: 'PENDING' });
      expect(await jobs.queue.getJob(young)).toBeUndefined();

      // Once it has aged too, the next run picks it up; the finished ones are not enqueued again.
      await age(young);
      expect(await sweep()).toMatchObject({ requeued: 1, failed: 0 });
      const done = await cluster.waitForStatus(key, young, ['SUCCESS', 'EXPIRED', 'FAILED']);
      expect(done.items_count).toBe(RECORDS);
    });

    it('marks FAILED, with the reason, a stale report whose job failed for good', async () => {
      const id = await orphanReport();
      // A job this deploy cannot read (as one from another release might be): the worker fails it without retry.
      await jobs.queue.add('generate-report', { reportId: 'report-from-another-release' }, { ...JOBS['generate-report'].options, jobId: id });
      await waitFor(async () => (await jobs.queue.getJob(id))?.isFailed(), { timeoutMs: 10_000, what: 'the job to fail' });
      expect((await jobs.queue.getJob(id))?.failedReason).toMatch(/invalid generate-report payload/);
      // The processor never touched the report: without the sweeper it would stay PENDING for ever.
      expect(await stored(id)).toMatchObject({ status: 'PENDING' });
      await age(id);

      expect(await sweep()).toMatchObject({ requeued: 0, failed: 1 });
      const failed = await get(id);
      expect(failed).toMatchObject({
        request_status: 'FAILED',
        error: { code: 'EXPORT_FAILED', message: expect.stringMatching(/invalid generate-report payload/) },
        expires_at: null,
        items_count: null,
      });
      expect(failed._links.download_report).toBeUndefined();
      expect(await downloadStatus(id)).toBe(409);
      expect(await stored(id)).toMatchObject({ status: 'FAILED', error_code: 'EXPORT_FAILED' });

      // Idempotent: a FAILED report is terminal, the next run leaves it be.
      expect(await sweep()).toMatchObject({ requeued: 0, failed: 0 });
      expect((await get(id)).request_status).toBe('FAILED');
    });
  });
});
