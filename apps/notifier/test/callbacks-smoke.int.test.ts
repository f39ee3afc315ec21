import { Webhook } from 'standardwebhooks';
import { generateCdrs } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import { startReportCluster, startWebhookReceiver, waitFor, type ReportCluster, type WebhookReceiver } from '@cdr-reports/testing';

describe('callbacks: smoke', () => {
  let cluster: ReportCluster;
  let receiver: WebhookReceiver;
  let key: string;
  beforeAll(async () => {
    cluster = await startReportCluster({ notifier: true, env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms,200ms' } });
    receiver = await startWebhookReceiver((n) => (n <= 2 ? { status: 500 } : { status: 204 }));
    key = await cluster.account('acme');
    await cluster.load([...generateCdrs({ rows: 500, accounts: ['acme'], from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-05T00:00:00Z'), seed: 3 })]);
  });
  afterAll(async () => {
    await cluster.close();
    await receiver.close();
  });

  it('delivers a signed report.completed after two failures', async () => {
    const report = await cluster.createReport(key, { product: 'SMS', date_start: '2026-10-01T00:00:00Z', date_end: '2026-10-05T00:00:00Z', callback_url: receiver.url() });
    await waitFor(() => receiver.received.length >= 3 || undefined, { timeoutMs: 15_000 });
    const secret = (await cluster.services.db.pool.query('SELECT webhook_secret FROM accounts WHERE id = $1', ['acme'])).rows[0].webhook_secret;
    const last = receiver.received[2]!;
    const verified = new Webhook(secret).verify(last.body, last.headers as Record<string, string>) as { type: string; data: { request_id: string } };
    expect(verified.type).toBe('report.completed');
    expect(verified.data.request_id).toBe(report.request_id);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const log = await waitFor(async () => {
      const response = await cluster.request('GET', `/v1/reports/${report.request_id}/callbacks`, key);
      return response.body.state === 'delivered' ? response.body : undefined;
    });
    expect(log.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 204]);
    void AccountsRepository;
  });
});
