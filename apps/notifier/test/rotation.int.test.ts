import { randomBytes } from 'node:crypto';
import { WebhookVerificationError } from 'standardwebhooks';
import {
  createAbortedReport,
  receivedForReport,
  signaturesOf,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  useReportCluster,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '@cdr-reports/testing';

/**
 * Rotating the signing secret without breaking receivers: for 24 h after POST /v1/webhook-secret/rotate every
 * callback carries two signatures, one per secret, so a receiver verifies with either (checked with the
 * published standardwebhooks package); after that only the new secret signs.
 */
describe('callbacks: secret rotation', () => {
  const cluster = useReportCluster({ worker: false, notifier: true, env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,500ms' } });
  let receiver: WebhookReceiver;
  let keys: Record<string, string>;
  let original: string;
  let rotated: string;

  const body = (url: string) => ({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', callback_url: url });
  const stranger = () => `whsec_${randomBytes(32).toString('base64')}`;
  /** A report.aborted event of `account`, delivered; returns the request the receiver got. */
  async function deliveredEvent(account: string, to: WebhookReceiver = receiver): Promise<ReceivedWebhook> {
    const { id } = await createAbortedReport(cluster, keys[account]!, body(to.url()));
    await waitForCallbackState(cluster, keys[account]!, id, ['delivered']);
    const [webhook, ...more] = receivedForReport(to.received, id);
    expect(more).toEqual([]);
    return webhook!;
  }

  beforeAll(async () => {
    receiver = await cluster.receiver();
    keys = { acme: await cluster.account('acme'), globex: await cluster.account('globex') };
    original = await webhookSecret(cluster.services.db.pool, 'acme');
  }, 30_000);

  it('signs with the account secret alone before any rotation', async () => {
    const webhook = await deliveredEvent('acme');
    expect(signaturesOf(webhook)).toHaveLength(1);
    expect(verifyWebhook(original, webhook).type).toBe('report.aborted');
    expect(() => verifyWebhook(stranger(), webhook)).toThrow(WebhookVerificationError);
  });

  it('POST /v1/webhook-secret/rotate: a new secret, and from then on both sign, even the retry of an earlier event', async () => {
    // An event whose first attempt fails before the rotation and whose retry (500 ms later) comes after it.
    const flaky = await cluster.receiver((n) => (n === 1 ? { status: 500 } : { status: 204 }));
    const { id: retriedId } = await createAbortedReport(cluster, keys.acme!, body(flaky.url()));
    await waitFor(() => flaky.received.length === 1, { what: 'the first attempt' });

    const before = Date.now();
    const response = await cluster.request('POST', '/v1/webhook-secret/rotate', keys.acme!);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      account_id: 'acme',
      webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      previous_secret_expires_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    rotated = response.body.webhook_secret;
    expect(rotated).not.toBe(original);
    expect(Date.parse(response.body.previous_secret_expires_at) - before).toBeGreaterThan(24 * 3_600_000 - 60_000);
    expect(Date.parse(response.body.previous_secret_expires_at) - before).toBeLessThan(24 * 3_600_000 + 60_000);
    expect(await webhookSecret(cluster.services.db.pool, 'acme')).toBe(rotated);

    // The retry of the earlier event is signed anew, now with both secrets; its first attempt had one.
    await waitForCallbackState(cluster, keys.acme!, retriedId, ['delivered']);
    const [first, retry] = flaky.received;
    expect(signaturesOf(first!)).toHaveLength(1);
    expect(verifyWebhook(original, first!).type).toBe('report.aborted');
    expect(signaturesOf(retry!)).toHaveLength(2);
    expect(retry!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    for (const secret of [rotated, original]) expect(verifyWebhook(secret, retry!).type).toBe('report.aborted');

    // A new event: two space-separated signatures, each secret verifies, no other does.
    const webhook = await deliveredEvent('acme');
    expect(String(webhook.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyWebhook(rotated, webhook).type).toBe('report.aborted');
    expect(verifyWebhook(original, webhook).type).toBe('report.aborted');
    expect(() => verifyWebhook(stranger(), webhook)).toThrow(WebhookVerificationError);
  });

  it('rotates only the caller’s account: another account keeps signing with its own secret alone', async () => {
    const webhook = await deliveredEvent('globex');
    expect(signaturesOf(webhook)).toHaveLength(1);
    expect(verifyWebhook(await webhookSecret(cluster.services.db.pool, 'globex'), webhook).type).toBe('report.aborted');
    expect(() => verifyWebhook(original, webhook)).toThrow(WebhookVerificationError);
  });

  it('after the 24 hours only the new secret signs', async () => {
    // The overlap window has passed (simulated).
    await cluster.services.db.pool.query(`UPDATE accounts SET previous_secret_expires_at = now() - interval '1 second' WHERE id = 'acme'`);
    const webhook = await deliveredEvent('acme');
    expect(signaturesOf(webhook)).toHaveLength(1);
    expect(verifyWebhook(rotated, webhook).type).toBe('report.aborted');
    expect(() => verifyWebhook(original, webhook)).toThrow(WebhookVerificationError);
  });

  it('needs a valid key', async () => {
    const response = await cluster.request('POST', '/v1/webhook-secret/rotate', 'cdrk_not-a-key');
    expect(response.status).toBe(401);
    expect(await webhookSecret(cluster.services.db.pool, 'acme')).toBe(rotated);
  });
});
