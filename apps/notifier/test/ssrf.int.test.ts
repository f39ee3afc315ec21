import { randomUUID } from 'node:crypto';
import { CallbacksRepository, ReportsRepository } from '@cdr-reports/db';
import { CallbackOutbox } from '@cdr-reports/jobs';
import {
  reportRequest,
  waitFor,
  waitForCallbackState,
  useReportCluster,
  type CallbackQueueProbe,
  type ReportQueueProbe,
  type WebhookReceiver,
} from '@cdr-reports/testing';

const body = (callbackUrl: string) => ({ product: 'SMS', date_start: '2026-03-01T00:00:00Z', date_end: '2026-03-02T00:00:00Z', callback_url: callbackUrl });

/**
 * Callbacks cannot be pointed at the inside: a callback_url whose host is, or resolves to, a loopback,
 * private, link-local, CGNAT, multicast, reserved or unspecified address (in any notation) is refused when the
 * report is asked for; and an address that slips past that check (DNS rebinding, or a literal recorded before)
 * is refused again by the notifier when it dials, without a connection.
 */
describe('callbacks: SSRF', () => {
  describe('without CALLBACK_ALLOWED_NETWORKS', () => {
    const cluster = useReportCluster({ worker: false, notifier: true, env: { CALLBACK_RETRY_SCHEDULE: '0s,100ms' } });
    let reportJobs: ReportQueueProbe;
    let callbackJobs: CallbackQueueProbe;
    let receiver: WebhookReceiver;
    let key: string;

    beforeAll(async () => {
      reportJobs = cluster.reportQueue();
      callbackJobs = cluster.callbackQueue(2);
      receiver = await cluster.receiver();
      key = await cluster.account('acme');
    }, 30_000);

    const port = () => new URL(receiver.url()).port;
    const refused = () => [
      // loopback, in every notation the WHATWG URL parser accepts
      `http://127.0.0.1:${port()}/hooks`,
      'http://127.0.0.1/',
      'http://127.255.255.254/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      // names resolving to loopback
      `http://localhost:${port()}/hooks`,
      'https://LOCALHOST/',
      // private
      'http://10.0.0.1/',
      'https://10.255.255.255:8443/',
      'http://172.16.0.1/',
      'http://172.31.255.254/',
      'http://192.168.0.1/',
      'http://[::ffff:192.168.1.1]/',
      // link-local and cloud metadata
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[fe80::1]/',
      // CGNAT
      'http://100.64.0.1/',
      'http://100.127.255.254/',
      // multicast
      'http://224.0.0.1/',
      'http://239.255.255.250/',
      'http://[ff02::1]/',
      // reserved, broadcast
      'http://240.0.0.1/',
      'http://255.255.255.255/',
      // unspecified
      'http://0.0.0.0/',
      'http://0/',
      'http://[::]/',
      // IPv6 unique local
      'http://[fd00::1]/',
      'http://[fc00::abcd]/',
    ];

    it('refuses every private target with a 400 naming callback_url, and creates nothing', async () => {
      const answers: { url: string; status: number; params: unknown }[] = [];
      for (const url of refused()) {
        const response = await cluster.request('POST', '/v1/reports', key, body(url));
        answers.push({ url, status: response.status, params: response.body?.invalid_params });
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expect(answers).toEqual(refused().map((url) => ({ url, status: 400, params: [{ name: 'callback_url', reason: expect.stringMatching(/private, loopback, link-local, multicast or reserved/) }] })));
      // Nothing was created: no report row, no job.
      const reports = await cluster.services.db.pool.query<{ count: string }>('SELECT count(*) FROM reports');
      expect(reports.rows[0]!.count).toBe('0');
      expect(await reportJobs.queue.count()).toBe(0);
      expect((await cluster.request('GET', '/v1/reports', key)).body.items).toEqual([]);
    });

    it('accepts a public address', async () => {
      const response = await cluster.request('POST', '/v1/reports', key, body('http://93.184.215.14/hooks'));
      expect(response.status).toBe(202);
      expect(response.body.callback_url).toBe('http://93.184.215.14/hooks');
      // It stays PENDING (no worker here) and is closed without an event afterwards: nothing dials out of the machine.
    });

    it('the notifier refuses at dial time what got past the check: a private literal, and a name resolving to loopback', async () => {
      // Reports recorded with these URLs directly (as if the name had resolved to a public address when the
      // report was asked for, and was rebound since): only the notifier's checks stand between them and the receiver.
      const reports = new ReportsRepository(cluster.services.db.pool);
      const store = new CallbacksRepository(cluster.services.db.pool);
      const urls = [receiver.url('/literal'), receiver.url('/name').replace('127.0.0.1', 'localhost'), `http://[::ffff:127.0.0.1]:${port()}/mapped`];
      const ids: string[] = [];
      for (const url of urls) {
        const id = randomUUID();
        await reports.create({ id, requestedBy: 'acme', request: reportRequest({ callback_url: url }) });
        const aborted = await reports.abort(id);
        await new CallbackOutbox(callbackJobs.producer, store, cluster.logger).publish(aborted.eventId);
        ids.push(id);
      }
      const logs = await Promise.all(ids.map((id) => waitForCallbackState(cluster, key, id, ['failed', 'delivered'])));
      expect(logs.map((log) => log.state)).toEqual(['failed', 'failed', 'failed']);
      for (const log of logs) expect(log.attempts).toHaveLength(2);
      expect(logs[0]!.attempts.map((a) => [a.status_code, a.error])).toEqual([
        [null, 'refused: 127.0.0.1 is a private, loopback, link-local, multicast or reserved address'],
        [null, 'refused: 127.0.0.1 is a private, loopback, link-local, multicast or reserved address'],
      ]);
      for (const attempt of logs[1]!.attempts) expect(attempt).toMatchObject({ status_code: null, error: expect.stringMatching(/refused to connect to localhost: .*private, loopback/) });
      for (const attempt of logs[2]!.attempts) expect(attempt).toMatchObject({ status_code: null, error: expect.stringMatching(/^refused: .*private, loopback/) });
      await waitFor(async () => (await callbackJobs.unfinished()) === 0, { what: 'the deliveries to end' });
      expect(receiver.received).toEqual([]);
    });
  });

  describe('with CALLBACK_ALLOWED_NETWORKS=127.0.0.0/8', () => {
    const cluster = useReportCluster({ worker: false, notifier: true, env: { CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8' } });
    let receiver: WebhookReceiver;
    let key: string;

    beforeAll(async () => {
      receiver = await cluster.receiver();
      key = await cluster.account('acme');
    }, 30_000);

    it('accepts the local receiver, and delivers to it', async () => {
      const response = await cluster.request('POST', '/v1/reports', key, body(receiver.url()));
      expect(response.status).toBe(202);
      expect((await cluster.request('DELETE', `/v1/reports/${response.body.request_id}`, key)).status).toBe(200);
      expect((await waitForCallbackState(cluster, key, response.body.request_id, ['delivered', 'failed'])).state).toBe('delivered');
      expect(receiver.received).toHaveLength(1);
    });

    it('still refuses everything outside the allowed network', async () => {
      for (const url of ['http://[::1]/', 'http://10.0.0.1/', 'http://169.254.169.254/', 'http://192.168.1.1/', 'http://[fd00::1]/']) {
        const response = await cluster.request('POST', '/v1/reports', key, body(url));
        expect({ url, status: response.status, name: response.body.invalid_params?.[0]?.name }).toEqual({ url, status: 400, name: 'callback_url' });
      }
    });
  });
});
