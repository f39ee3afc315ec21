import { ReportsRepository } from '@cdr-reports/db';
import { buildManifest } from '@cdr-reports/domain';
import {
  callbackLog,
  createAbortedReport,
  useReportCluster,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  type CallbackQueueProbe,
  type WebhookReceiver,
} from '@cdr-reports/testing';

/**
 * Nothing is lost when a process dies at the worst moment: a notifier killed while a receiver holds its request
 * (the job's lock lapses after JOB_LOCK_DURATION=2s and another notifier delivers the same message; and again
 * when the notifier that took over is killed too), and a
 * worker that recorded a terminal state but died before enqueueing its event (the outbox relay delivers it,
 * exactly once, even when the enqueue did happen and is repeated).
 */
describe('callbacks: crashes', () => {
  const ENV = { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms', JOB_LOCK_DURATION: '2s' };
  const cluster = useReportCluster({ worker: false, notifier: false, env: ENV });
  let probe: CallbackQueueProbe;
  let receiver: WebhookReceiver;
  let reports: ReportsRepository;
  let key: string;
  let secret: string;
  let notifierRunning = false;

  const body = (callbackUrl: string) => ({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', callback_url: callbackUrl });
  async function startInProcessNotifier(): Promise<void> {
    if (notifierRunning) return;
    await cluster.startNotifier();
    notifierRunning = true;
  }
  const enqueuedAt = async (eventId: string) =>
    (await cluster.services.db.pool.query<{ enqueued_at: Date | null }>('SELECT enqueued_at FROM callback_events WHERE id = $1', [eventId])).rows[0]?.enqueued_at;
  const deliveriesOf = (eventId: string) => receiver.received.filter((r) => r.headers['webhook-id'] === eventId);
  /** Waits until the relay has handed the event over and the queue has nothing left to do. */
  async function quiescent(eventId: string): Promise<void> {
    await waitFor(async () => (await enqueuedAt(eventId)) instanceof Date && (await probe.unfinished()) === 0, { timeoutMs: 15_000, what: `event ${eventId} to be enqueued and the queue idle` });
  }

  beforeAll(async () => {
    probe = cluster.callbackQueue();
    receiver = await cluster.receiver();
    reports = new ReportsRepository(cluster.services.db.pool);
    key = await cluster.account('acme');
    secret = await webhookSecret(cluster.services.db.pool, 'acme');
  }, 30_000);

  it('a notifier killed mid-delivery: another one delivers the same message later', async () => {
    // The first request is held open (the notifier waits for an answer); any later one is answered at once.
    const holding = await cluster.receiver((n) => (n === 1 ? { status: 204, delayMs: 120_000 } : { status: 204 }));
    const first = cluster.spawn('notifier', ENV);
    await first.ready();

    const { id } = await createAbortedReport(cluster, key, body(holding.url()));
    await waitFor(() => holding.received.length === 1, { timeoutMs: 15_000, what: 'the first attempt to reach the receiver' });
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');

    // Killed mid-attempt: the event is pending, nothing is logged, and its job holds a lock nobody renews.
    const midway = await callbackLog(cluster, key, id);
    expect(midway).toMatchObject({ state: 'pending', attempts: [] });
    expect(await (await probe.queue.getJob(`${midway!.event_id}.1`))?.getState()).toBe('active');

    await startInProcessNotifier();
    const log = await waitForCallbackState(cluster, key, id, ['delivered', 'failed'], 20_000);
    expect(log.state).toBe('delivered');
    expect(holding.received).toHaveLength(2);
    expect(holding.received.map((r) => r.headers['webhook-id'])).toEqual([log.event_id, log.event_id]);
    expect(holding.received[1]!.body).toBe(holding.received[0]!.body);
    for (const webhook of holding.received) expect(verifyWebhook(secret, webhook).type).toBe('report.aborted');
    // The killed attempt never had an outcome to record; the one that delivered is in the log.
    expect(log.attempts).toEqual([{ attempt: 1, time: expect.any(String), status_code: 204, duration_ms: expect.any(Number), error: null }]);
  }, 60_000);

  it('a notifier killed mid-delivery, and the one that took over killed too: the event is still delivered', async () => {
    // Only spawned notifiers run during the kills; the in-process one comes last.
    await cluster.stopNotifier();
    notifierRunning = false;
    const holding = await cluster.receiver((n) => (n <= 2 ? { status: 204, delayMs: 120_000 } : { status: 204 }));
    const first = cluster.spawn('notifier', ENV);
    await first.ready();
    const { id } = await createAbortedReport(cluster, key, body(holding.url()));
    await waitFor(() => holding.received.length === 1, { timeoutMs: 15_000, what: 'the first attempt to reach the receiver' });
    await first.kill();

    const second = cluster.spawn('notifier', ENV);
    await second.ready();
    await waitFor(() => holding.received.length === 2, { timeoutMs: 15_000, what: 'the second notifier to take the delivery over' });
    await second.kill();

    await startInProcessNotifier();
    const log = await waitForCallbackState(cluster, key, id, ['delivered', 'failed'], 10_000).catch(async (error: Error) => {
      // What is left when nothing happens: the event as the API shows it and its job as BullMQ holds it.
      const stuck = await callbackLog(cluster, key, id);
      const job = await probe.queue.getJob(`${stuck?.event_id}.1`);
      throw new Error(`${error.message}; event ${stuck?.state}, job ${await job?.getState()} (${job?.failedReason ?? 'no reason'})`);
    });
    expect(log.state).toBe('delivered');
    expect(holding.received.map((r) => r.headers['webhook-id'])).toEqual([log.event_id, log.event_id, log.event_id]);
  }, 60_000);

  /**
   * Three terminal states recorded as the worker, the sweeper and the API record them, at once (so one relay tick
   * serves them all), each without the enqueue that normally follows: the process "died" in between.
   */
  describe('the outbox relay', () => {
    const recorded = { completed: { id: '', eventId: '' }, failed: { id: '', eventId: '' }, twice: { id: '', eventId: '' } };

    beforeAll(async () => {
      await startInProcessNotifier();
      const create = async () => (await cluster.createReport(key, body(receiver.url()))).request_id;

      // The worker, up to the moment it dies: PROCESSING, then SUCCESS with its event in one transaction.
      recorded.completed.id = await create();
      const processing = await reports.startProcessing(recorded.completed.id);
      if (!processing || processing === 'capped') throw new Error('the report did not start');
      const endTime = new Date();
      const summary = { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} };
      const completed = await reports.complete(recorded.completed.id, {
        files: [],
        manifestKey: `reports/acme/${recorded.completed.id}/manifest.json`,
        manifest: buildManifest({ id: recorded.completed.id, accountId: 'acme', request: processing.request, summary, itemsCount: 0 }, [], (file) => file.key, endTime),
        itemsCount: 0,
        summary: { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} },
        fileKey: `reports/acme/${recorded.completed.id}/SMS_${recorded.completed.id}.csv.gz`,
        file: { name: `SMS_${recorded.completed.id}.csv.gz`, size_bytes: 20, content_type: 'application/gzip' },
        endTime,
        expiresAt: new Date(endTime.getTime() + 3_600_000),
      });
      expect(completed).toEqual({ changed: true, eventId: expect.stringMatching(/^msg_/) });
      recorded.completed.eventId = completed.eventId!;

      // A report failed for good (as the sweeper records a lost job, or the worker its last attempt).
      recorded.failed.id = await create();
      const failed = await reports.fail(recorded.failed.id, { code: 'EXPORT_FAILED', message: 'the report could not be built after its retries: lost' });
      expect(failed).toEqual({ changed: true, eventId: expect.stringMatching(/^msg_/) });
      recorded.failed.eventId = failed.eventId!;

      // An abort whose fast path did enqueue (twice, racing itself) but died before noting it: the relay enqueues a third time.
      recorded.twice.id = await create();
      const aborted = await reports.abort(recorded.twice.id);
      recorded.twice.eventId = aborted.eventId!;
      await Promise.all([probe.producer.enqueue(recorded.twice.eventId), probe.producer.enqueue(recorded.twice.eventId)]);

      for (const { eventId } of Object.values(recorded)) expect(await enqueuedAt(eventId)).toBeNull();
      expect(await probe.queue.getJob(`${recorded.completed.eventId}.1`)).toBeUndefined();
      expect(await probe.queue.getJob(`${recorded.failed.eventId}.1`)).toBeUndefined();
    }, 30_000);

    it('a worker that recorded SUCCESS but died before enqueueing: the relay delivers report.completed exactly once', async () => {
      const { id, eventId } = recorded.completed;
      await waitFor(() => deliveriesOf(eventId).length > 0, { timeoutMs: 10_000, what: 'the relay to deliver the recorded event' });
      await quiescent(eventId);
      expect(deliveriesOf(eventId)).toHaveLength(1);
      expect(verifyWebhook(secret, deliveriesOf(eventId)[0]!)).toMatchObject({ type: 'report.completed', data: { request_id: id, request_status: 'SUCCESS' } });
      const log = await waitForCallbackState(cluster, key, id, ['delivered']);
      expect(log).toMatchObject({ event_id: eventId, type: 'report.completed', attempts: [{ attempt: 1, status_code: 204, error: null }] });
    }, 30_000);

    it('a report failed for good without an enqueue: the relay delivers report.failed exactly once', async () => {
      const { id, eventId } = recorded.failed;
      await waitFor(() => deliveriesOf(eventId).length > 0, { timeoutMs: 10_000, what: 'the relay to deliver the recorded event' });
      await quiescent(eventId);
      expect(deliveriesOf(eventId)).toHaveLength(1);
      expect(verifyWebhook(secret, deliveriesOf(eventId)[0]!)).toMatchObject({
        type: 'report.failed',
        data: { request_id: id, request_status: 'FAILED', error: { code: 'EXPORT_FAILED' } },
      });
      expect((await waitForCallbackState(cluster, key, id, ['delivered'])).attempts).toHaveLength(1);
    }, 30_000);

    it('an event enqueued twice by the fast path and again by the relay is delivered once', async () => {
      const { id, eventId } = recorded.twice;
      await waitFor(() => deliveriesOf(eventId).length > 0, { timeoutMs: 10_000, what: 'the event to be delivered' });
      // The relay has enqueued it again by now, and the queue has nothing left to do.
      await quiescent(eventId);
      expect(deliveriesOf(eventId)).toHaveLength(1);
      expect((await waitForCallbackState(cluster, key, id, ['delivered'])).attempts).toHaveLength(1);
    }, 30_000);
  });
});
