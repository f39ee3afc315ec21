import { ApiKeysRepository } from '@cdr-reports/db';
import { yesterdayAtUtc, useReportCluster } from '@cdr-reports/testing';

/**
 * Who may touch what, over every endpoint that holds an account's data: a parent, its child, the child's
 * child and an unrelated account, each with its own key. The rule: an account and its ancestors see it; a
 * descendant or a stranger gets 404, exactly as for something that does not exist. Without a valid key
 * (missing, malformed, unknown, revoked) every /v1 endpoint answers 401 with WWW-Authenticate.
 */
describe('authorization matrix', () => {
  const cluster = useReportCluster({ worker: false });
  const keys: Record<string, string> = {};
  let revokedKey: string;
  const ids: Record<string, string> = {};
  const day = yesterdayAtUtc(0);
  const range = { date_start: new Date(day).toISOString(), date_end: new Date(day + 3_600_000).toISOString() };

  beforeAll(async () => {
    keys.parent = await cluster.account('parent');
    keys.child = await cluster.account('child', 'parent');
    keys.grandchild = await cluster.account('grandchild', 'child');
    keys.stranger = await cluster.account('stranger');
    const repository = new ApiKeysRepository(cluster.services.db.pool);
    const spare = await repository.create('parent', 'to revoke');
    await repository.revoke(spare.key.id);
    revokedKey = spare.apiKey;
    // The child's resources.
    ids.report = (await cluster.createReport(keys.child!, { product: 'SMS', ...range })).request_id;
    ids.schedule = (await cluster.request('POST', '/v1/schedules', keys.child!, { name: 'child monthly', report: { product: 'SMS' } })).body.id;
  }, 60_000);

  // Reading the child's resources: the child and its ancestors may, the rest get 404.
  const reads = () => [
    ['GET', `/v1/reports/${ids.report}`],
    ['GET', `/v1/reports/${ids.report}/download`],
    ['GET', `/v1/schedules/${ids.schedule}`],
    ['GET', `/v1/schedules/${ids.schedule}/runs`],
    ['GET', '/v1/accounts/child'],
  ] as const;

  it.each([
    ['parent', true],
    ['child', true],
    ['grandchild', false],
    ['stranger', false],
  ])("%s reading the child's resources: allowed %s", async (who, allowed) => {
    for (const [method, url] of reads()) {
      const response = await cluster.request(method, url, keys[who]!);
      // The download of a PENDING report is a 409: the report is visible, its file not ready.
      const visible = response.status === 200 || response.status === 409;
      expect({ who, method, url, status: allowed ? visible : response.status }).toEqual({ who, method, url, status: allowed ? true : 404 });
    }
  });

  it.each([
    ['parent', true],
    ['child', true],
    ['grandchild', false],
    ['stranger', false],
  ])("%s acting on the child's account: allowed %s", async (who, allowed) => {
    const key = keys[who]!;
    const report = await cluster.request('POST', '/v1/reports', key, { product: 'SMS', account_id: 'child', ...range });
    expect({ who, status: report.status }).toEqual({ who, status: allowed ? 202 : 403 });
    const records = await cluster.request('GET', `/v1/records?${new URLSearchParams({ product: 'SMS', account_id: 'child', ...range })}`, key);
    expect({ who, status: records.status }).toEqual({ who, status: allowed ? 200 : 403 });
    const usage = await cluster.request('GET', `/v1/usage?${new URLSearchParams({ product: 'SMS', account_id: 'child', ...range })}`, key);
    expect({ who, status: usage.status }).toEqual({ who, status: allowed ? 200 : 403 });
    const schedule = await cluster.request('POST', '/v1/schedules', key, { name: 'x', report: { product: 'SMS', account_id: 'child' } });
    expect({ who, status: schedule.status }).toEqual({ who, status: allowed ? 201 : 403 });
    // Lists show the child's report and schedule to those allowed only.
    const listed = (await cluster.request('GET', '/v1/reports?limit=100', key)).body.items.map((r: { request_id: string }) => r.request_id);
    expect({ who, listed: listed.includes(ids.report) }).toEqual({ who, listed: allowed });
    const schedules = (await cluster.request('GET', '/v1/schedules', key)).body.items.map((s: { id: string }) => s.id);
    expect({ who, listed: schedules.includes(ids.schedule) }).toEqual({ who, listed: allowed });
  });

  it('a stranger cannot change, run or delete the child’s resources: 404, and nothing changes', async () => {
    for (const [method, url, body] of [
      ['PATCH', `/v1/schedules/${ids.schedule}`, { paused: true }],
      ['POST', `/v1/schedules/${ids.schedule}/run`, { period_start: '2026-03-01' }],
      ['DELETE', `/v1/schedules/${ids.schedule}`, undefined],
      ['DELETE', `/v1/reports/${ids.report}`, undefined],
      ['POST', `/v1/reports/${ids.report}/callbacks/redeliver`, undefined],
      ['GET', `/v1/reports/${ids.report}/callbacks`, undefined],
    ] as const) {
      for (const who of ['grandchild', 'stranger']) {
        const response = await cluster.request(method, url, keys[who]!, body);
        expect({ who, method, url, status: response.status }).toEqual({ who, method, url, status: 404 });
      }
    }
    expect((await cluster.request('GET', `/v1/schedules/${ids.schedule}`, keys.child!)).body.paused).toBe(false);
    expect((await cluster.request('GET', `/v1/reports/${ids.report}`, keys.child!)).body.request_status).toBe('PENDING');
  });

  it('answers 401 with WWW-Authenticate on every /v1 endpoint without a valid key', async () => {
    const endpoints = [
      ['GET', '/v1/accounts'],
      ['GET', '/v1/accounts/child'],
      ['POST', '/v1/reports'],
      ['GET', '/v1/reports'],
      ['GET', `/v1/reports/${ids.report}`],
      ['DELETE', `/v1/reports/${ids.report}`],
      ['GET', `/v1/reports/${ids.report}/download`],
      ['GET', `/v1/reports/${ids.report}/callbacks`],
      ['POST', `/v1/reports/${ids.report}/callbacks/redeliver`],
      ['POST', '/v1/webhook-secret/rotate'],
      ['GET', '/v1/records?product=SMS'],
      ['GET', '/v1/usage?product=SMS'],
      ['POST', '/v1/schedules'],
      ['GET', '/v1/schedules'],
      ['GET', `/v1/schedules/${ids.schedule}`],
      ['PATCH', `/v1/schedules/${ids.schedule}`],
      ['DELETE', `/v1/schedules/${ids.schedule}`],
      ['GET', `/v1/schedules/${ids.schedule}/runs`],
      ['POST', `/v1/schedules/${ids.schedule}/run`],
    ] as const;
    const credentials: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not Bearer', { authorization: `Basic ${Buffer.from(`parent:${keys.parent}`).toString('base64')}` }],
      ['empty Bearer', { authorization: 'Bearer ' }],
      ['unknown key', { authorization: `Bearer ${keys.parent}x` }],
      ['revoked key', { authorization: `Bearer ${revokedKey}` }],
    ];
    for (const [method, url] of endpoints) {
      for (const [what, headers] of credentials) {
        const response = await cluster.api.app.inject({ method, url, headers, ...(method === 'POST' || method === 'PATCH' ? { payload: {} } : {}) });
        expect({ method, url, what, status: response.statusCode, challenge: response.headers['www-authenticate'] }).toEqual({
          method,
          url,
          what,
          status: 401,
          challenge: expect.stringMatching(/^Bearer/),
        });
      }
    }
    expect((await cluster.request('GET', `/v1/schedules/${ids.schedule}`, keys.child!)).status).toBe(200);
  });
});
