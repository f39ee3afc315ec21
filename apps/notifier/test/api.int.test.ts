import {
  ACME_AND_GLOBEX,
  callbackLog,
  createAbortedReport,
  createAccounts,
  useReportCluster,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  type CallbackQueueProbe,
} from '@cdr-reports/testing';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * What the API tells a caller about its callbacks, and delivering one again:
 * GET /v1/reports/{id}/callbacks (event id, state, every attempt) and POST /v1/reports/{id}/callbacks/redeliver
 * (the same event id and body again), with 409 where there is nothing to redeliver and 404 across accounts.
 */
describe('callbacks: the log and redelivery API', () => {
  const cluster = useReportCluster({ worker: false, notifier: true, env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms' } });
  let probe: CallbackQueueProbe;
  let keys: Record<string, string>;

  const body = (url?: string) => ({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', ...(url ? { callback_url: url } : {}) });
  const redeliver = (id: string, key: string) => cluster.request('POST', `/v1/reports/${id}/callbacks/redeliver`, key);
  const getLog = (id: string, key: string) => cluster.request('GET', `/v1/reports/${id}/callbacks`, key);

  beforeAll(async () => {
    probe = cluster.callbackQueue();
    keys = await createAccounts(cluster, ACME_AND_GLOBEX);
  }, 30_000);

  it('GET .../callbacks: the event id, its state, and every attempt with time, status code, duration and error', async () => {
    // The first attempt is answered 500 after 700 ms, the second 204.
    const flaky = await cluster.receiver((n) => (n === 1 ? { status: 500, delayMs: 700 } : { status: 204 }));
    const { id } = await createAbortedReport(cluster, keys.acme!, body(flaky.url('/log')));

    // While the first attempt is in flight: pending, nothing attempted yet.
    await waitFor(() => flaky.received.length === 1, { what: 'the first attempt' });
    expect(await callbackLog(cluster, keys.acme!, id)).toMatchObject({ state: 'pending', delivered_at: null, attempts: [] });

    const log = await waitForCallbackState(cluster, keys.acme!, id, ['delivered']);
    expect(log).toEqual({
      event_id: flaky.received[0]!.headers['webhook-id'],
      type: 'report.aborted',
      url: flaky.url('/log'),
      state: 'delivered',
      created_at: expect.stringMatching(ISO),
      delivered_at: expect.stringMatching(ISO),
      attempts: [
        { attempt: 1, time: expect.stringMatching(ISO), status_code: 500, duration_ms: expect.any(Number), error: 'receiver answered 500' },
        { attempt: 2, time: expect.stringMatching(ISO), status_code: 204, duration_ms: expect.any(Number), error: null },
      ],
      _links: {
        self: { href: `/v1/reports/${id}/callbacks` },
        redeliver: { href: `/v1/reports/${id}/callbacks/redeliver` },
        report: { href: `/v1/reports/${id}` },
      },
    });
    expect(log.event_id).toMatch(/^msg_/);
    // The durations are the receiver's: the first answer took 700 ms.
    expect(log.attempts[0]!.duration_ms).toBeGreaterThanOrEqual(650);
    expect(log.attempts[0]!.duration_ms).toBeLessThan(5_000);
    // Times in order: event, attempts, delivery.
    const times = [log.created_at, ...log.attempts.map((a) => a.time), log.delivered_at!].map(Date.parse);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('POST .../redeliver sends the same message again: same webhook-id, same body; the log grows', async () => {
    const healthy = await cluster.receiver();
    const { id } = await createAbortedReport(cluster, keys.acme!, body(healthy.url('/again')));
    const delivered = await waitForCallbackState(cluster, keys.acme!, id, ['delivered']);

    const response = await redeliver(id, keys.acme!);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ event_id: delivered.event_id, type: 'report.aborted', url: healthy.url('/again') });
    expect(['pending', 'delivered']).toContain(response.body.state);
    await waitFor(() => healthy.received.length === 2, { what: 'the redelivery' });
    expect((await waitForCallbackState(cluster, keys.acme!, id, ['delivered'])).attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 204],
      [2, 204],
    ]);

    // And again: every redelivery is a new delivery of the same event.
    expect((await redeliver(id, keys.acme!)).status).toBe(202);
    await waitFor(() => healthy.received.length === 3, { what: 'the second redelivery' });
    await waitFor(async () => (await callbackLog(cluster, keys.acme!, id))?.attempts.length === 3, { what: 'the third attempt to be logged' });

    expect(new Set(healthy.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([delivered.event_id]));
    expect(new Set(healthy.received.map((r) => r.body)).size).toBe(1);
    const secret = await webhookSecret(cluster.services.db.pool, 'acme');
    for (const webhook of healthy.received) expect(verifyWebhook(secret, webhook).data.request_id).toBe(id);
  });

  it('POST .../redeliver revives a failed event (410 Gone), and delivers it', async () => {
    const goneThenBack = await cluster.receiver((n) => (n === 1 ? { status: 410 } : { status: 204 }));
    const { id } = await createAbortedReport(cluster, keys.acme!, body(goneThenBack.url()));
    const failed = await waitForCallbackState(cluster, keys.acme!, id, ['failed']);
    expect(failed.attempts.map((a) => a.status_code)).toEqual([410]);

    expect((await redeliver(id, keys.acme!)).status).toBe(202);
    const log = await waitForCallbackState(cluster, keys.acme!, id, ['delivered']);
    expect(log.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 410],
      [2, 204],
    ]);
    expect(goneThenBack.received.map((r) => r.headers['webhook-id'])).toEqual([log.event_id, log.event_id]);
  });

  it('409 when there is nothing to redeliver: no callback_url, or not finished yet; the log is then 404', async () => {
    const withoutCallback = (await cluster.createReport(keys.acme!, body())).request_id;
    expect((await cluster.request('DELETE', `/v1/reports/${withoutCallback}`, keys.acme!)).status).toBe(200);
    const noUrl = await redeliver(withoutCallback, keys.acme!);
    expect(noUrl.status).toBe(409);
    expect(noUrl.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(noUrl.body).toMatchObject({ status: 409, detail: expect.stringMatching(/no callback_url/) });
    expect((await getLog(withoutCallback, keys.acme!)).status).toBe(404);

    const healthy = await cluster.receiver();
    const unfinished = (await cluster.createReport(keys.acme!, body(healthy.url()))).request_id;
    const notYet = await redeliver(unfinished, keys.acme!);
    expect(notYet.status).toBe(409);
    expect(notYet.body.detail).toMatch(/not finished/);
    expect((await getLog(unfinished, keys.acme!)).status).toBe(404);
    expect(healthy.received).toEqual([]);
  });

  it('404 across accounts: a stranger can neither read nor redeliver another account’s callback', async () => {
    const healthy = await cluster.receiver();
    const { id } = await createAbortedReport(cluster, keys['acme-uk']!, body(healthy.url()));
    const log = await waitForCallbackState(cluster, keys['acme-uk']!, id, ['delivered']);

    for (const outsider of ['globex', 'acme-uk-london']) {
      expect({ outsider, status: (await getLog(id, keys[outsider]!)).status }).toEqual({ outsider, status: 404 });
      expect({ outsider, status: (await redeliver(id, keys[outsider]!)).status }).toEqual({ outsider, status: 404 });
    }
    // The parent account acts for its subaccount.
    expect((await getLog(id, keys.acme!)).body.event_id).toBe(log.event_id);
    // Nothing was redelivered: still one delivery, no second job.
    const event = await cluster.services.db.pool.query('SELECT deliveries, state FROM callback_events WHERE id = $1', [log.event_id]);
    expect(event.rows).toEqual([{ deliveries: 1, state: 'delivered' }]);
    expect(await probe.queue.getJob(`${log.event_id}.2`)).toBeUndefined();
    expect(healthy.received).toHaveLength(1);

    expect((await getLog('00000000-0000-4000-8000-000000000000', keys.acme!)).status).toBe(404);
    expect((await redeliver('not-a-report', keys.acme!)).status).toBe(404);
    expect((await getLog(id, 'cdrk_not-a-key')).status).toBe(401);
    expect((await redeliver(id, 'cdrk_not-a-key')).status).toBe(401);
  });
});
