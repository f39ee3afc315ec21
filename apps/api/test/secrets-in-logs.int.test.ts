import { cdrFactory, minutesAfter, waitFor, webhookSecret, yesterdayAtUtc, useReportCluster, type WebhookReceiver } from '@cdr-reports/testing';

/**
 * No secret reaches a log: every line the API, the worker and the notifier write at debug level during a
 * whole run (keys accepted and refused, reports built, downloaded, failed and aborted, callbacks delivered
 * and refused) is read, and none holds an API key, a webhook secret, a presigned URL's signature or a
 * message body.
 */
describe('secrets in logs', () => {
  const lines: string[] = [];
  const cluster = useReportCluster({
    notifier: true,
    env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,100ms' },
    logDestination: { write: (line: string) => void lines.push(line) },
  });
  let receiver: WebhookReceiver;
  let key: string;
  let secret: string;
  const MESSAGE = 'Your verification code is 771-903 SECRET-BODY-MARKER';
  const windowStart = yesterdayAtUtc(5);

  beforeAll(async () => {
    // The second callback of each report is refused: attempts that fail are logged too.
    receiver = await cluster.receiver((n) => ({ status: n % 2 === 0 ? 500 : 204 }));
    key = await cluster.account('acme');
    secret = await webhookSecret(cluster.services.db.pool, 'acme');
    const records = cdrFactory({ idGroup: '5ec0', startTime: minutesAfter(windowStart), endAfterMs: 4_500, columns: { message_body: MESSAGE } });
    await cluster.load(Array.from({ length: 20 }, () => records()));
  }, 60_000);

  it('holds no API key, webhook secret, link signature or message body', async () => {
    const range = { date_start: new Date(windowStart).toISOString(), date_end: new Date(windowStart + 3_600_000).toISOString() };
    const body = { product: 'SMS', ...range, include_message: true, callback_url: receiver.url('/hook') };

    // Accepted, built, delivered, read with its link, downloaded through the redirect.
    const done = await cluster.waitForStatus(key, (await cluster.createReport(key, body)).request_id, ['SUCCESS', 'FAILED'], 30_000);
    expect(done.request_status).toBe('SUCCESS');
    const link = done._links.download_report!.href;
    expect(link).toMatch(/X-Amz-Signature=[0-9a-f]{64}/);
    expect((await cluster.download(done)).length).toBeGreaterThan(0);
    await cluster.request('GET', `/v1/reports/${done.request_id}/download`, key);
    // Refused: a wrong key, a key in the wrong place, a bad body.
    await cluster.request('GET', '/v1/reports', `${key}x`);
    await cluster.api.app.inject({ method: 'GET', url: `/v1/reports?api_key=${key}` });
    await cluster.request('POST', '/v1/reports', key, { ...body, product: 'FAX' });
    // Aborted, and a second report whose callback is refused then retried.
    const aborted = await cluster.createReport(key, body);
    await cluster.request('DELETE', `/v1/reports/${aborted.request_id}`, key);
    const second = await cluster.createReport(key, body);
    await cluster.waitForStatus(key, second.request_id, ['SUCCESS', 'FAILED'], 30_000);
    await waitFor(() => receiver.received.length >= 4 || undefined, { timeoutMs: 20_000, what: 'the callbacks, refused ones retried' });
    // The notifier presigns links into callbacks: they were sent.
    expect(receiver.received.some((r) => r.body.includes('X-Amz-Signature'))).toBe(true);

    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(link)![1]!;
    const leaks = { apiKey: all.includes(key), webhookSecret: all.includes(secret) || all.includes(secret.replace(/^whsec_/, '')), signature: all.includes(signature), anySignature: /X-Amz-Signature=[0-9a-f]{16}/.test(all), messageBody: all.includes('SECRET-BODY-MARKER') };
    expect(leaks).toEqual({ apiKey: false, webhookSecret: false, signature: false, anySignature: false, messageBody: false });
  }, 90_000);
});
