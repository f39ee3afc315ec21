import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createAbortedReport,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  useReportCluster,
  type CallbackLogResource,
  type CallbackQueueProbe,
  type WebhookReceiver,
} from '@cdr-reports/testing';

/**
 * What counts as a delivered, a failed and a final attempt: 2xx within CALLBACK_TIMEOUT (1 s here), retries on
 * the schedule (4 attempts, 200 ms apart), a hanging receiver, redirects, 410 Gone, Retry-After, endless bodies.
 * Events are report.aborted ones (a report cancelled while PENDING): recorded and enqueued at once, no export needed.
 */
describe('callbacks: attempts and retries', () => {
  const cluster = useReportCluster({
    worker: false,
    notifier: true,
    env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms,200ms', CALLBACK_TIMEOUT: '1s' },
  });
  let probe: CallbackQueueProbe;
  let key: string;
  let secret: string;

  const ATTEMPTS = 4;
  const SCHEDULE_GAP_MS = 200;
  const TIMEOUT_MS = 1_000;

  /** A report.aborted event calling back `url`; returns the report id. */
  async function eventTo(url: string): Promise<string> {
    return (await createAbortedReport(cluster, key, { product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', callback_url: url })).id;
  }
  const settled = (id: string) => waitForCallbackState(cluster, key, id, ['delivered', 'failed']);
  /** Waits until BullMQ holds the delivery job as finished for good: nothing more will be attempted. */
  async function jobFinished(log: CallbackLogResource): Promise<string> {
    return waitFor(
      async () => {
        const state = await (await probe.queue.getJob(`${log.event_id}.1`))?.getState();
        return state === 'completed' || state === 'failed' ? state : undefined;
      },
      { what: `the delivery job of ${log.event_id} to finish` },
    );
  }
  const gaps = (r: WebhookReceiver) => r.received.slice(1).map((w, i) => w.receivedAt - r.received[i]!.receivedAt);

  beforeAll(async () => {
    probe = cluster.callbackQueue();
    key = await cluster.account('acme');
    secret = await webhookSecret(cluster.services.db.pool, 'acme');
  }, 30_000);

  it('a receiver failing three times then answering 2xx: four attempts of the same message, each signed anew, delivered', async () => {
    const failures = [500, 502, 500];
    const flaky = await cluster.receiver((n) => ({ status: failures[n - 1] ?? 204 }));
    const id = await eventTo(flaky.url());
    const log = await settled(id);

    expect(log.state).toBe('delivered');
    expect(log.attempts).toEqual([
      { attempt: 1, time: expect.any(String), status_code: 500, duration_ms: expect.any(Number), error: 'receiver answered 500' },
      { attempt: 2, time: expect.any(String), status_code: 502, duration_ms: expect.any(Number), error: 'receiver answered 502' },
      { attempt: 3, time: expect.any(String), status_code: 500, duration_ms: expect.any(Number), error: 'receiver answered 500' },
      { attempt: 4, time: expect.any(String), status_code: 204, duration_ms: expect.any(Number), error: null },
    ]);
    expect(flaky.received).toHaveLength(4);
    // The same message every time: one webhook-id, the same bytes; each attempt verifies on its own.
    expect(new Set(flaky.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([log.event_id]));
    expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1);
    for (const webhook of flaky.received) {
      expect(verifyWebhook(secret, webhook).type).toBe('report.aborted');
      // Signed at the attempt, not at the first one: the timestamp is the attempt's own.
      expect(Math.abs(Number(webhook.headers['webhook-timestamp']) - webhook.receivedAt / 1000)).toBeLessThan(1.5);
    }
    // The schedule's 200 ms (+-10 %) between attempts.
    for (const gap of gaps(flaky)) expect(gap).toBeGreaterThanOrEqual(SCHEDULE_GAP_MS * 0.9 - 5);
    expect(await jobFinished(log)).toBe('completed');
  });

  it('attempts exhausted: the event is failed and every attempt is in the log', async () => {
    const broken = await cluster.receiver(() => ({ status: 500 }));
    const id = await eventTo(broken.url());
    const log = await settled(id);
    expect(log.state).toBe('failed');
    expect(log.delivered_at).toBeNull();
    expect(await jobFinished(log)).toBe('failed');
    const final = await waitForCallbackState(cluster, key, id, ['failed']);
    expect(final.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual(
      Array.from({ length: ATTEMPTS }, (_, i) => [i + 1, 500, 'receiver answered 500']),
    );
    expect(broken.received).toHaveLength(ATTEMPTS);
  });

  it('a receiver that hangs past CALLBACK_TIMEOUT is a failed attempt, and the next attempt follows', async () => {
    const hanging = await cluster.receiver((n) => (n === 1 ? { status: 204, delayMs: 10_000 } : { status: 204 }));
    const id = await eventTo(hanging.url());
    const log = await settled(id);
    expect(log.state).toBe('delivered');
    expect(log.attempts).toEqual([
      { attempt: 1, time: expect.any(String), status_code: null, duration_ms: expect.any(Number), error: `no answer within ${TIMEOUT_MS} ms` },
      { attempt: 2, time: expect.any(String), status_code: 204, duration_ms: expect.any(Number), error: null },
    ]);
    expect(log.attempts[0]!.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
    expect(log.attempts[0]!.duration_ms).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(hanging.received).toHaveLength(2);
    expect(gaps(hanging)[0]).toBeGreaterThanOrEqual(TIMEOUT_MS);
  });

  it('a redirect is not followed: the attempt fails and the redirect target gets nothing', async () => {
    const elsewhere = await cluster.receiver(() => ({ status: 204 }));
    const redirecting = await cluster.receiver((n) => (n === 1 ? { status: 301, headers: { location: elsewhere.url('/moved') } } : { status: 204 }));
    const id = await eventTo(redirecting.url());
    const log = await settled(id);
    expect(log.attempts.map((a) => [a.status_code, a.error])).toEqual([
      [301, 'redirect (301) not followed'],
      [204, null],
    ]);
    expect(redirecting.received).toHaveLength(2);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('410 Gone stops the retries: the event is failed after exactly one attempt', async () => {
    const gone = await cluster.receiver(() => ({ status: 410 }));
    const id = await eventTo(gone.url());
    const log = await settled(id);
    expect(log.state).toBe('failed');
    expect(await jobFinished(log)).toBe('failed');
    const final = await waitForCallbackState(cluster, key, id, ['failed']);
    expect(final.attempts).toEqual([{ attempt: 1, time: expect.any(String), status_code: 410, duration_ms: expect.any(Number), error: 'receiver answered 410' }]);
    expect(gone.received).toHaveLength(1);
  });

  it.each([429, 503])('%i with Retry-After: 2 is honoured although the schedule says 200 ms; the retry is signed anew', async (status) => {
    const busy = await cluster.receiver((n) => (n === 1 ? { status, headers: { 'retry-after': '2' } } : { status: 204 }));
    const id = await eventTo(busy.url());
    const log = await settled(id);
    expect(log.attempts.map((a) => [a.status_code, a.error])).toEqual([
      [status, `receiver answered ${status}`],
      [204, null],
    ]);
    expect(busy.received).toHaveLength(2);
    expect(gaps(busy)[0]).toBeGreaterThanOrEqual(1_950);
    const [first, second] = busy.received;
    // Re-signed: a later timestamp and another signature, and both verify (Standard Webhooks receivers reject stale ones).
    expect(Number(second!.headers['webhook-timestamp'])).toBeGreaterThan(Number(first!.headers['webhook-timestamp']));
    expect(second!.headers['webhook-signature']).not.toBe(first!.headers['webhook-signature']);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verifyWebhook(secret, first!)).toEqual(verifyWebhook(secret, second!));
  });

  it('reads at most 64 KiB of an answer: a receiver streaming an endless body does not hold the attempt', async () => {
    let requests = 0;
    let written = 0;
    let closedByClient = false;
    const chunk = Buffer.alloc(64 * 1024, 'z');
    const server = createServer((request, response) => {
      requests++;
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        response.on('close', () => (closedByClient = true));
        const pump = () => {
          while (!response.destroyed && written < 1024 * 1024 * 1024) {
            written += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cluster.onTeardown(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const id = await eventTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`);
    const log = await settled(id);
    // Delivered by its 200 well inside the 1 s timeout, although the body never ends.
    expect(log.state).toBe('delivered');
    expect(log.attempts).toEqual([{ attempt: 1, time: expect.any(String), status_code: 200, duration_ms: expect.any(Number), error: null }]);
    expect(log.attempts[0]!.duration_ms).toBeLessThan(TIMEOUT_MS);
    expect(requests).toBe(1);
    await waitFor(() => closedByClient, { what: 'the notifier to hang up on the endless body' });
    expect(written).toBeLessThan(1024 * 1024 * 1024);
  });
});
