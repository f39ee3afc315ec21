import { createProducerConnection, ScheduleQueue } from '@cdr-reports/jobs';
import { createLogger } from '@cdr-reports/logging';
import { openReportStorage } from '@cdr-reports/object-store';
import { createReportServices, type ReportServices } from '@cdr-reports/reports';
import { TEST_REDIS_URL, waitFor, useReportCluster } from '@cdr-reports/testing';
import type { Redis } from 'ioredis';

/**
 * Scheduled exports: CRUD with job schedulers in Redis, run-now for a period, exactly one report per schedule
 * and period whatever duplicates or restarts happen, runs fired by BullMQ's job scheduler through the worker,
 * and the catch-up of runs missed while the cluster was down.
 */
describe('scheduled exports', () => {
  const cluster = useReportCluster({ worker: false });
  let redis: Redis;
  let queue: ScheduleQueue;
  let services: ReportServices;
  let keys: Record<string, string>;

  const create = async (key: string, body: Record<string, unknown>) => {
    const response = await cluster.request('POST', '/v1/schedules', key, body);
    expect(response.status).toBe(201);
    return response.body as { id: string; [field: string]: unknown };
  };
  const reportsOf = async (scheduleId: string) =>
    (await cluster.services.db.pool.query<{ id: string; period_start: string }>(
      `SELECT id, to_char(period_start, 'YYYY-MM-DD') AS period_start FROM reports WHERE schedule_id = $1 ORDER BY period_start`,
      [scheduleId],
    )).rows;

  beforeAll(async () => {
    keys = { acme: await cluster.account('acme'), uk: await cluster.account('acme-uk', 'acme'), globex: await cluster.account('globex') };
    redis = createProducerConnection(TEST_REDIS_URL);
    queue = new ScheduleQueue(redis, cluster.services.prefix);
    const config = cluster.services.config();
    const logger = createLogger({ app: 'test', level: 'silent' });
    const storage = await openReportStorage(config, logger);
    services = await createReportServices({ config, pool: cluster.services.db.pool, redis, storage, logger });
    cluster.onTeardown(async () => {
      await services?.close();
      await queue?.close();
      redis?.disconnect();
    });
  }, 60_000);

  it('creates a schedule with its defaults and a job scheduler on its cron and time zone', async () => {
    const schedule = await create(keys.acme!, { name: 'Monthly SMS', timezone: 'Europe/Paris', report: { product: 'SMS', compression: 'zip' } });
    expect(schedule).toMatchObject({
      name: 'Monthly SMS',
      account_id: 'acme',
      cron: '0 2 1 * *',
      timezone: 'Europe/Paris',
      period: 'previous_month',
      paused: false,
      report: { product: 'SMS', account_id: 'acme', compression: 'zip' },
    });
    expect(await queue.find(schedule.id)).toEqual({ pattern: '0 2 1 * *', tz: 'Europe/Paris' });
    const listed = await cluster.request('GET', '/v1/schedules', keys.acme!);
    expect(listed.body.items.map((s: { id: string }) => s.id)).toContain(schedule.id);
  });

  it('pauses, resumes, re-times and deletes; a paused schedule has no job scheduler', async () => {
    const schedule = await create(keys.acme!, { name: 'Weekly', period: 'previous_week', cron: '0 3 * * 1', report: { product: 'VOICE-CALL' } });
    const patch = (body: unknown) => cluster.request('PATCH', `/v1/schedules/${schedule.id}`, keys.acme!, body);
    expect((await patch({ paused: true })).body.paused).toBe(true);
    expect(await queue.find(schedule.id)).toBeUndefined();
    expect((await patch({ paused: false, cron: '30 4 * * 1' })).body).toMatchObject({ paused: false, cron: '30 4 * * 1' });
    expect(await queue.find(schedule.id)).toEqual({ pattern: '30 4 * * 1', tz: 'UTC' });
    const invalid = await patch({ cron: 'sometimes', period: 'yearly' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.invalid_params.map((p: { name: string }) => p.name).sort()).toEqual(['cron', 'period']);

    expect((await cluster.request('DELETE', `/v1/schedules/${schedule.id}`, keys.acme!)).status).toBe(204);
    expect((await cluster.request('GET', `/v1/schedules/${schedule.id}`, keys.acme!)).status).toBe(404);
    expect(await queue.find(schedule.id)).toBeUndefined();
  });

  it('is visible to its account and ancestors only, and refuses reports for accounts the key cannot see', async () => {
    const schedule = await create(keys.uk!, { name: 'UK', report: { product: 'SMS' } });
    expect((await cluster.request('GET', `/v1/schedules/${schedule.id}`, keys.acme!)).status).toBe(200);
    expect((await cluster.request('GET', `/v1/schedules/${schedule.id}`, keys.globex!)).status).toBe(404);
    expect((await cluster.request('POST', `/v1/schedules/${schedule.id}/run`, keys.globex!, { period_start: '2026-03-01' })).status).toBe(404);
    expect((await cluster.request('POST', '/v1/schedules', keys.uk!, { name: 'x', report: { product: 'SMS', account_id: 'acme' } })).status).toBe(403);
    const bad = await cluster.request('POST', '/v1/schedules', keys.acme!, { name: 'x', report: { product: 'SMS', date_start: '2026-03-01T00:00:00Z', fields: ['nope'] } });
    expect(bad.body.invalid_params.map((p: { name: string }) => p.name).sort()).toEqual(['report.date_start', 'report.fields']);
  });

  it('runs now for the period containing a date, in its time zone, once however often it is asked', async () => {
    const schedule = await create(keys.acme!, { name: 'Paris', timezone: 'Europe/Paris', report: { product: 'SMS' }, callback_url: 'https://8.8.8.8/cdr-ready' });
    const run = () => cluster.request('POST', `/v1/schedules/${schedule.id}/run`, keys.acme!, { period_start: '2026-03-15' });
    const first = await run();
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      schedule_id: schedule.id,
      date_start: '2026-03-01T00:00:00+01:00',
      date_end: '2026-04-01T00:00:00+02:00',
      callback_url: 'https://8.8.8.8/cdr-ready',
      request_status: 'PENDING',
    });
    // Ten more at once: the same report every time.
    const again = await Promise.all(Array.from({ length: 10 }, run));
    expect(new Set(again.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(again.map((r) => r.body.request_id))).toEqual(new Set([first.body.request_id]));
    expect(await reportsOf(schedule.id)).toEqual([{ id: first.body.request_id, period_start: '2026-03-01' }]);

    const runs = await cluster.request('GET', `/v1/schedules/${schedule.id}/runs`, keys.acme!);
    expect(runs.body.items.map((r: { request_id: string }) => r.request_id)).toEqual([first.body.request_id]);
    const unfinished = await cluster.request('POST', `/v1/schedules/${schedule.id}/run`, keys.acme!, { period_start: new Date().toISOString().slice(0, 10) });
    expect(unfinished.status).toBe(400);
    expect(unfinished.body.invalid_params[0]).toMatchObject({ name: 'period_start', reason: expect.stringMatching(/has not ended yet/) });
    expect((await cluster.request('POST', `/v1/schedules/${schedule.id}/run`, keys.acme!, { period_start: '2026-02-30' })).status).toBe(400);

    // After a failure (here: aborted), run-now makes a new report for the period; the old one stays a run.
    expect((await cluster.request('DELETE', `/v1/reports/${first.body.request_id}`, keys.acme!)).body.request_status).toBe('ABORTED');
    const rerun = await run();
    expect(rerun.status).toBe(202);
    expect(rerun.body.request_id).not.toBe(first.body.request_id);
    expect(await reportsOf(schedule.id)).toEqual([
      { id: rerun.body.request_id, period_start: '2026-03-01' },
      { id: first.body.request_id, period_start: null },
    ]);
    const allRuns = await cluster.request('GET', `/v1/schedules/${schedule.id}/runs`, keys.acme!);
    expect(allRuns.body.items.map((r: { request_id: string }) => r.request_id)).toEqual([rerun.body.request_id, first.body.request_id]);
    // The scheduler and the catch-up never replace: only an explicit run-now does.
    expect((await run()).body.request_id).toBe(rerun.body.request_id);
  });

  it('fires through the job scheduler and the worker: one report for the period, however often it fires, across a restart', async () => {
    // Every second, reporting on the previous day: many fires, one period.
    const schedule = await create(keys.acme!, { name: 'Daily', cron: '* * * * * *', period: 'previous_day', report: { product: 'SMS' } });
    await cluster.startWorker();
    try {
      await waitFor(async () => (await reportsOf(schedule.id)).length > 0 || undefined, { timeoutMs: 20_000, what: 'the scheduled run' });
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await cluster.stopWorker();
      await cluster.startWorker();
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const reports = await reportsOf(schedule.id);
      // Just after midnight UTC the run of the new day may have come too: one report per period still.
      expect(reports.length).toBeLessThanOrEqual(2);
      expect(new Set(reports.map((r) => r.period_start)).size).toBe(reports.length);
      expect(reports.map((r) => r.period_start)).toContain(yesterday);
      const report = await cluster.waitForStatus(keys.acme!, reports.find((r) => r.period_start === yesterday)!.id, ['SUCCESS', 'FAILED'], 20_000);
      expect(report.request_status).toBe('SUCCESS');
    } finally {
      await cluster.request('DELETE', `/v1/schedules/${schedule.id}`, keys.acme!);
      await cluster.stopWorker();
    }
  }, 60_000);

  it('catches up the periods whose runs fell while the cluster was down, once each', async () => {
    const schedule = await create(keys.acme!, { name: 'Catch-up', cron: '0 2 * * *', period: 'previous_day', report: { product: 'SMS' } });
    // The cluster was down for the last three days and a half: no run happened.
    await cluster.services.db.pool.query(`UPDATE schedules SET active_since = now() - interval '3 days 12 hours' WHERE id = $1`, [schedule.id]);
    const created = await services.schedules.catchUp();
    expect(created).toBeGreaterThanOrEqual(3);
    const reports = await reportsOf(schedule.id);
    expect(reports).toHaveLength(created);
    expect(new Set(reports.map((r) => r.period_start)).size).toBe(reports.length);
    // Consecutive days, ending with the day before today's (or yesterday's) 02:00 run.
    const days = reports.map((r) => Date.parse(`${r.period_start}T00:00:00Z`));
    for (let i = 1; i < days.length; i++) expect(days[i]! - days[i - 1]!).toBe(86_400_000);
    expect(await services.schedules.catchUp()).toBe(0);
    expect(await reportsOf(schedule.id)).toHaveLength(created);

    // A paused schedule is not caught up, and resuming it does not back-fill the pause.
    await cluster.request('PATCH', `/v1/schedules/${schedule.id}`, keys.acme!, { paused: true });
    await cluster.services.db.pool.query(`UPDATE schedules SET active_since = now() - interval '6 days' WHERE id = $1`, [schedule.id]);
    expect(await services.schedules.catchUp()).toBe(0);
    await cluster.request('PATCH', `/v1/schedules/${schedule.id}`, keys.acme!, { paused: false });
    expect(await services.schedules.catchUp()).toBe(0);
    expect(await reportsOf(schedule.id)).toHaveLength(created);
  });

  it('restores a job scheduler Redis lost', async () => {
    const schedule = await create(keys.acme!, { name: 'Lost', report: { product: 'SMS' } });
    await queue.remove(schedule.id);
    await services.schedules.catchUp();
    expect(await queue.find(schedule.id)).toEqual({ pattern: '0 2 1 * *', tz: 'UTC' });
  });
});
