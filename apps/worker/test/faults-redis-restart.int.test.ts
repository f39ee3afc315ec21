import type { Redis } from 'ioredis';
import { generateCdrs } from '@cdr-reports/cdr-store';
import { createWorkerConnection } from '@cdr-reports/jobs';
import {
  openReportRunner,
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
 * Redis restarts (SIGTERM, then started again over the same append-only file) while reports are queued and
 * running: the API, the worker and the notifier reconnect, no report is lost, every accepted report ends
 * SUCCESS with a complete file, and every callback is delivered. A report accepted while Redis is away is
 * recorded but not enqueued: the report sweeper enqueues it once Redis answers (in production a minute-ly
 * job that picks up reports untouched for 2 min; here one pass is run as that job would, without the wait).
 * The suite owns its redis-server, durable as production runs it (appendfsync always, noeviction).
 */
describe('fault: Redis restarted while reports are queued and running', () => {
  const env = { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms' };
  const cluster = useReportCluster({ ownRedis: true, worker: false, notifier: true, env });
  let receiver: WebhookReceiver;
  let key: string;
  let secret: string;
  let sweeperConnection: Redis | undefined;

  const DAY = 86_400_000;
  const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)));
  const from = new Date(to.getTime() - 10 * DAY);
  const ROWS = 150_000;
  /** Five reports of two days each: with two at a time, some run and some wait when Redis goes. */
  const ranges = Array.from({ length: 5 }, (_, i) => ({ from: new Date(from.getTime() + 2 * i * DAY), to: new Date(from.getTime() + 2 * (i + 1) * DAY) }));

  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  async function expectedIds(range: { from: Date; to: Date }): Promise<string[]> {
    const result = await cluster.services.db.pool.query<{ id: string }>(
      `SELECT id::text FROM cdrs WHERE account_id = 'carrier' AND product = 'VOICE-CALL' AND start_time >= $1 AND start_time < $2
       ORDER BY start_time, id`,
      [range.from, range.to],
    );
    return result.rows.map((r) => r.id);
  }
  const reportBody = (range: { from: Date; to: Date }) => ({
    product: 'VOICE-CALL',
    date_start: range.from.toISOString(),
    date_end: range.to.toISOString(),
    callback_url: receiver.url('/redis-fault'),
  });
  /** One pass of the report sweeper, as its scheduled job makes it, for reports however recently touched. */
  async function sweepOnce() {
    if (!sweeperConnection) {
      const connection = createWorkerConnection(cluster.redisServer.url);
      cluster.onTeardown(() => connection.quit());
      sweeperConnection = connection;
    }
    const opened = await openReportRunner(cluster, sweeperConnection);
    try {
      return await opened.runner.sweep(undefined, { staleAfterMs: 0 });
    } finally {
      await opened.close();
    }
  }

  beforeAll(async () => {
    receiver = await cluster.receiver();
    key = await cluster.account('carrier');
    secret = await webhookSecret(cluster.services.db.pool, 'carrier');
    await cluster.load([...generateCdrs({ rows: ROWS, accounts: ['carrier'], from, to, seed: 51, products: ['VOICE-CALL'] })]);
  }, 90_000);

  it('loses no report: every accepted report ends SUCCESS with a complete file and its callback', async () => {
    // Level 9: slow enough that reports are still running and waiting when Redis goes.
    const worker = cluster.spawn('worker', { ...env, REPORT_COMPRESSION_LEVEL: '9' });
    let log = '';
    for (const stream of [worker.child.stdout!, worker.child.stderr!]) stream.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    await worker.ready();

    const submitted = new Map<string, { from: Date; to: Date }>();
    for (const range of ranges) submitted.set((await cluster.createReport(key, reportBody(range))).request_id, range);
    const ids = [...submitted.keys()];

    // Restart in the middle: at least one report streaming, at least one still waiting for a slot.
    await waitFor(
      async () => {
        const reports = await Promise.all(ids.map(get));
        const running = reports.filter((r) => r.request_status === 'PROCESSING' && r.progress!.items_processed > 0);
        const waiting = reports.filter((r) => r.request_status === 'PENDING');
        if (waiting.length === 0) throw new Error(`no report left waiting: ${reports.map((r) => r.request_status).join(', ')}`);
        return running.length > 0;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'a report to be streaming while another waits' },
    );
    await cluster.redisServer.stop();
    expect(cluster.redisServer.running).toBe(false);
    // Accepted while Redis is away: the report is recorded in PostgreSQL, its job is left to the sweeper.
    const duringOutage = await cluster.request('POST', '/v1/reports', key, reportBody(ranges[1]!));
    expect(duringOutage.status).toBe(202);
    submitted.set(duringOutage.body.request_id, ranges[1]!);
    // Down for a moment: reconnect attempts meet a closed port.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await cluster.redisServer.start();
    // And one right after Redis is back.
    submitted.set((await cluster.createReport(key, reportBody(ranges[2]!))).request_id, ranges[2]!);

    const waitForEnd = (id: string) =>
      cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED', 'ABORTED'], 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\nworker log:\n${log.slice(-6000)}\nredis log:\n${cluster.redisServer.log}`);
      });
    // The reports queued or running when Redis went end without any help.
    for (const id of ids) await waitForEnd(id);
    // The sweeper's pass enqueues whatever was accepted but has no job; the rest it leaves alone.
    const swept = await sweepOnce();
    // At least the report accepted during the outage had no job (more if the API's connection was still
    // reconnecting when the next one came); nothing failed.
    expect(swept.requeued).toBeGreaterThanOrEqual(1);
    expect(swept.failed).toBe(0);

    for (const [id, range] of submitted) {
      const done = await waitForEnd(id);
      expect({ id, status: done.request_status, error: done.error }).toEqual({ id, status: 'SUCCESS', error: undefined });
      const expected = await expectedIds(range);
      expect(expected.length).toBeGreaterThan(0);
      expect(done.items_count).toBe(expected.length);
      const file = await readReportFile(await cluster.download(done), 'gzip');
      expect(file.rows).toHaveLength(done.items_count!);
      expect(file.rows.map((row) => row[0]!)).toEqual(expected);
      expect(await cluster.objectKeys(`reports/carrier/${id}/`)).toEqual([`reports/carrier/${id}/${done.file!.name}`, `reports/carrier/${id}/manifest.json`]);
    }

    // Every report's one event is delivered.
    for (const id of submitted.keys()) {
      expect((await waitForCallbackState(cluster, key, id, ['delivered', 'failed'], 20_000)).state).toBe('delivered');
      const callbacks = receivedForReport(receiver.received, id);
      expect(new Set(callbacks.map((c) => c.headers['webhook-id'])).size).toBe(1);
      const event = verifyWebhook(secret, callbacks[0]!);
      expect(event.type).toBe('report.completed');
      expect(event.data).toMatchObject({ request_id: id, request_status: 'SUCCESS' });
    }

    expect(worker.alive).toBe(true);
    await worker.stop();
    expect((await worker.exited).code).toBe(0);
  }, 150_000);
});
