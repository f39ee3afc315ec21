import { createAbortedReport, receivedForReport, waitFor, waitForCallbackState, useReportCluster, type WebhookReceiver } from '@cdr-reports/testing';

/**
 * A slow or dead endpoint never delays deliveries to other endpoints. The notifier here has 4 delivery slots
 * (CALLBACK_CONCURRENCY=4) of which at most 2 may go to one host (CALLBACK_HOST_CONCURRENCY=2); six events go
 * to a receiver that never answers (CALLBACK_TIMEOUT=5s), then three to a healthy one on another port. Without
 * the per-host bound the hanging receiver would hold all 4 slots for 5 s and the healthy one would wait as long.
 */
describe('callbacks: a hanging receiver does not hold up the others', () => {
  const HOST_CONCURRENCY = 2;
  const cluster = useReportCluster({
    worker: false,
    notifier: true,
    env: {
      CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8',
      CALLBACK_CONCURRENCY: '4',
      CALLBACK_HOST_CONCURRENCY: String(HOST_CONCURRENCY),
      CALLBACK_TIMEOUT: '5s',
      CALLBACK_RETRY_SCHEDULE: '0s,200ms',
    },
  });
  let hanging: WebhookReceiver;
  let healthy: WebhookReceiver;
  let key: string;
  const TIMEOUT_MS = 5_000;
  // Requests the hanging receiver holds open right now, and the most it ever held at once.
  let open = 0;
  let mostOpen = 0;

  const body = (url: string) => ({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', callback_url: url });

  beforeAll(async () => {
    hanging = await cluster.receiver((_n, request) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      request.socket.once('close', () => open--);
      return { status: 204, delayMs: 60_000 };
    });
    healthy = await cluster.receiver();
    key = await cluster.account('acme');
  }, 30_000);

  it('delivers to the healthy receiver promptly while the hanging one holds its share of slots', async () => {
    for (let i = 0; i < 6; i++) await createAbortedReport(cluster, key, body(hanging.url(`/dead/${i}`)));
    await waitFor(() => hanging.received.length >= HOST_CONCURRENCY, { what: 'the hanging receiver to hold its requests' });

    const events: { id: string; abortedAt: number }[] = [];
    for (let i = 0; i < 3; i++) events.push(await createAbortedReport(cluster, key, body(healthy.url(`/alive/${i}`))));
    await waitFor(() => events.every((e) => receivedForReport(healthy.received, e.id).length === 1), {
      timeoutMs: TIMEOUT_MS * 2,
      what: 'the healthy receiver to get its events',
    });
    const latencies = events.map((e) => receivedForReport(healthy.received, e.id)[0]!.receivedAt - e.abortedAt);
    // Well under the hanging receiver's timeout: nothing waited for a slot the hanging receiver held.
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    // Meanwhile the hanging receiver never had more than its share, and none of its requests had timed out yet.
    expect(mostOpen).toBeLessThanOrEqual(HOST_CONCURRENCY);
    expect(hanging.received.length).toBe(HOST_CONCURRENCY);
    for (const event of events) expect((await waitForCallbackState(cluster, key, event.id, ['delivered'])).attempts).toHaveLength(1);
  }, 30_000);
});
