import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebhookVerificationError } from 'standardwebhooks';
import { CallbacksRepository, ReportsRepository } from '@cdr-reports/db';
import { CallbackOutbox } from '@cdr-reports/jobs';
import {
  cdrFactory,
  createAbortedReport,
  minutesAfter,
  receivedForReport,
  signaturesOf,
  verifyWebhook,
  waitFor,
  waitForCallbackState,
  webhookSecret,
  yesterdayAtUtc,
  useReportCluster,
  type CallbackQueueProbe,
  type ReceivedWebhook,
  type ReportResource,
  type WebhookReceiver,
} from '@cdr-reports/testing';

const VERSION = (JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The resource with the presigned link reduced to its object address: its signature and date change with every presign. */
function withoutLinkSignature(resource: ReportResource): ReportResource {
  const copy = structuredClone(resource);
  const link = copy._links.download_report;
  if (link) {
    const url = new URL(link.href);
    link.href = `${url.origin}${url.pathname}`;
  }
  return copy;
}

/**
 * The three events and what they carry: a body of `type`, `timestamp` and the report resource exactly as
 * GET /v1/reports/{id} shows it, signed per Standard Webhooks with the account's secret (checked with the
 * published standardwebhooks package), with the product's user agent.
 */
describe('callbacks: events, body and headers', () => {
  const cluster = useReportCluster({
    worker: false,
    notifier: true,
    env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', CALLBACK_RETRY_SCHEDULE: '0s,200ms,200ms' },
  });
  let receiver: WebhookReceiver;
  let probe: CallbackQueueProbe;
  let key: string;
  let secret: string;

  const HOUR = 3_600_000;
  const windowStart = yesterdayAtUtc(10);
  const RECORDS = 5;
  const body = (extra: Record<string, unknown> = {}) => ({
    product: 'SMS',
    date_start: new Date(windowStart).toISOString(),
    date_end: new Date(windowStart + HOUR).toISOString(),
    callback_url: receiver.url('/cdr-events'),
    ...extra,
  });
  const get = async (id: string) => (await cluster.request('GET', `/v1/reports/${id}`, key)).body as ReportResource;
  /** The one request the receiver got for this report (waits for it). */
  async function theCallbackOf(id: string): Promise<ReceivedWebhook> {
    await waitForCallbackState(cluster, key, id, ['delivered', 'failed']);
    const received = receivedForReport(receiver.received, id);
    expect(received).toHaveLength(1);
    return received[0]!;
  }

  beforeAll(async () => {
    receiver = await cluster.receiver();
    probe = cluster.callbackQueue();
    key = await cluster.account('acme');
    secret = await webhookSecret(cluster.services.db.pool, 'acme');
    const sms = cdrFactory({ startTime: minutesAfter(windowStart), endAfterMs: 4_500, columns: { message_body: null } });
    await cluster.load(Array.from({ length: RECORDS }, () => sms()));
  }, 30_000);

  it('report.aborted (DELETE of a PENDING report): the body is the report as GET shows it', async () => {
    const { id } = await createAbortedReport(cluster, key, body());
    const webhook = await theCallbackOf(id);
    const event = verifyWebhook(secret, webhook);
    expect(Object.keys(event).sort()).toEqual(['data', 'timestamp', 'type']);
    expect(event.type).toBe('report.aborted');
    expect(event.data.request_status).toBe('ABORTED');
    expect(event.data).toEqual(await get(id));
  });

  it('report.failed (the worker records FAILED, then hands the event over): the body carries the error', async () => {
    const id = (await cluster.createReport(key, body())).request_id;
    // What the worker does when a report fails for good: the terminal state and its event in one transaction, then enqueue.
    const failed = await new ReportsRepository(cluster.services.db.pool).fail(id, { code: 'EXPORT_FAILED', message: 'the report could not be built' });
    expect(failed).toEqual({ changed: true, eventId: expect.stringMatching(/^msg_/) });
    await new CallbackOutbox(probe.producer, new CallbacksRepository(cluster.services.db.pool), cluster.logger).publish(failed.eventId);

    const webhook = await theCallbackOf(id);
    expect(webhook.headers['webhook-id']).toBe(failed.eventId);
    const event = verifyWebhook(secret, webhook);
    expect(event.type).toBe('report.failed');
    expect(event.data).toMatchObject({ request_status: 'FAILED', error: { code: 'EXPORT_FAILED', message: 'the report could not be built' } });
    expect(event.data).toEqual(await get(id));
  });

  it('a report without callback_url records no event and calls nobody', async () => {
    const id = (await cluster.createReport(key, body({ callback_url: undefined }))).request_id;
    expect((await cluster.request('DELETE', `/v1/reports/${id}`, key)).status).toBe(200);
    const events = await cluster.services.db.pool.query('SELECT id FROM callback_events WHERE report_id = $1', [id]);
    expect(events.rows).toEqual([]);
    expect((await cluster.request('GET', `/v1/reports/${id}/callbacks`, key)).status).toBe(404);
  });

  it('report.completed: signed Standard Webhooks headers, and the report resource with a working link', async () => {
    await cluster.startWorker();
    const id = (await cluster.createReport(key, body())).request_id;
    const done = await cluster.waitForStatus(key, id, ['SUCCESS', 'FAILED']);
    expect(done.request_status).toBe('SUCCESS');
    const webhook = await theCallbackOf(id);
    const log = await waitForCallbackState(cluster, key, id, ['delivered']);

    // Headers.
    expect(webhook.headers['content-type']).toBe('application/json');
    expect(webhook.headers['user-agent']).toMatch(new RegExp(`^cdr-reports[\\w-]*/${VERSION.replace(/\./g, '\\.')}$`));
    expect(webhook.headers['webhook-id']).toBe(log.event_id);
    expect(log.event_id).toMatch(/^msg_[A-Za-z0-9_-]+$/);
    const timestamp = Number(webhook.headers['webhook-timestamp']);
    expect(String(timestamp)).toBe(webhook.headers['webhook-timestamp']);
    expect(Math.abs(timestamp - webhook.receivedAt / 1000)).toBeLessThan(2);
    expect(signaturesOf(webhook)).toEqual([expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/)]);
    expect(() => verifyWebhook(`whsec_${randomBytes(32).toString('base64')}`, webhook)).toThrow(WebhookVerificationError);

    // Body: type, the time the event happened, and the resource as GET shows it. The only difference allowed
    // is the presigned link's signature and date (presigned once for the callback, again for each GET).
    const event = verifyWebhook(secret, webhook);
    expect(Object.keys(event).sort()).toEqual(['data', 'timestamp', 'type']);
    expect(event.type).toBe('report.completed');
    expect(event.timestamp).toBe(log.created_at);
    const current = await get(id);
    expect(withoutLinkSignature(event.data)).toEqual(withoutLinkSignature(current));
    expect(event.data).toMatchObject({ request_status: 'SUCCESS', items_count: RECORDS, summary: { records: RECORDS } });
    const callbackLink = new URL(event.data._links.download_report!.href);
    expect([...callbackLink.searchParams.keys()].sort()).toEqual([...new URL(current._links.download_report!.href).searchParams.keys()].sort());
    // The link in the callback downloads the same file as the one GET gives.
    const viaCallback = await fetch(callbackLink);
    expect(viaCallback.status).toBe(200);
    expect(Buffer.from(await viaCallback.arrayBuffer())).toEqual(await cluster.download(current));

    expect(log).toMatchObject({ type: 'report.completed', state: 'delivered', url: receiver.url('/cdr-events') });
    expect(log.attempts).toEqual([{ attempt: 1, time: expect.any(String), status_code: 204, duration_ms: expect.any(Number), error: null }]);
  });

  it('records one event per report: expiring a delivered report by DELETE sends nothing more', async () => {
    const [report] = (await cluster.request('GET', '/v1/reports?status=SUCCESS', key)).body.items as ReportResource[];
    expect(report).toBeDefined();
    expect((await cluster.request('DELETE', `/v1/reports/${report!.request_id}`, key)).body.request_status).toBe('EXPIRED');
    const events = await cluster.services.db.pool.query('SELECT state FROM callback_events WHERE report_id = $1', [report!.request_id]);
    expect(events.rows).toEqual([{ state: 'delivered' }]);
    await waitFor(async () => (await probe.unfinished()) === 0, { what: 'the callbacks queue to be idle' });
    expect(receivedForReport(receiver.received, report!.request_id)).toHaveLength(1);
  });
});
