import {
  ACME_AND_GLOBEX,
  cdrFactory,
  createAccounts,
  minutesAfter,
  yesterdayAtUtc,
  useReportCluster,
  type ReportResource,
} from '@cdr-reports/testing';

/**
 * Who sees which report: a key acts for its account and every descendant. Any other account's report answers
 * 404 (GET, DELETE, download) as if it did not exist, and never appears in a list.
 */
describe('report authorization', () => {
  const cluster = useReportCluster();
  const key: Record<string, string> = {};
  /** One finished report per account, requested by the account itself. */
  const report: Record<string, ReportResource> = {};

  const HOUR = 3_600_000;
  const windowStart = yesterdayAtUtc(9);
  const record = cdrFactory({ startTime: minutesAfter(windowStart), columns: { end_time: null, price: '0.0400', total_price: '0.0400', message_body: null } });
  /** An SMS of `account`, one a minute from the window's start. */
  const sms = (account: string) => record({ account_id: account });
  const body = {
    product: 'SMS',
    date_start: new Date(windowStart).toISOString(),
    date_end: new Date(windowStart + 2 * HOUR).toISOString(),
  };

  const statusOf = async (caller: string, method: 'GET' | 'DELETE', url: string) => (await cluster.request(method, url, key[caller]!)).status;
  const listed = async (caller: string) =>
    ((await cluster.request('GET', '/v1/reports?limit=100', key[caller]!)).body as { items: { request_id: string }[] }).items.map((r) => r.request_id);

  beforeAll(async () => {
    Object.assign(key, await createAccounts(cluster, ACME_AND_GLOBEX));
    await cluster.load(['acme', 'acme-uk', 'acme-uk-london', 'globex'].flatMap((account) => [sms(account), sms(account), sms(account)]));
    for (const account of Object.keys(key)) {
      const created = await cluster.createReport(key[account]!, body);
      report[account] = await cluster.waitForStatus(key[account]!, created.request_id, ['SUCCESS']);
      expect(report[account]!.items_count).toBe(3);
    }
  });

  // [caller, owner of the report]
  const invisible: [string, string][] = [
    ['globex', 'acme'],
    ['acme', 'globex'],
    ['acme-uk', 'acme'],
    ['acme-uk-london', 'acme-uk'],
    ['acme-uk-london', 'acme'],
    ['globex', 'acme-uk-london'],
  ];

  it.each(invisible)('%s gets 404 for GET, download and DELETE of a report of %s, which stays untouched', async (caller, owner) => {
    const id = report[owner]!.request_id;
    for (const [method, url] of [
      ['GET', `/v1/reports/${id}`],
      ['GET', `/v1/reports/${id}/download`],
      ['DELETE', `/v1/reports/${id}`],
    ] as const) {
      const response = await cluster.request(method, url, key[caller]!);
      expect({ method, url, status: response.status }).toEqual({ method, url, status: 404 });
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers.location).toBeUndefined();
      // The same answer as for a report that does not exist: nothing tells the two apart.
      expect(response.body).toMatchObject({ status: 404, title: 'Not found' });
    }
    // The DELETE did nothing: the owner still reads SUCCESS and can download.
    const owners = await cluster.request('GET', `/v1/reports/${id}`, key[owner]!);
    expect(owners.body.request_status).toBe('SUCCESS');
    expect(await statusOf(owner, 'GET', `/v1/reports/${id}/download`)).toBe(302);
  });

  it.each(invisible)('%s does not see a report of %s in its list', async (caller, owner) => {
    expect(await listed(caller)).not.toContain(report[owner]!.request_id);
  });

  it('a parent sees, lists and downloads the reports of its children and grandchildren', async () => {
    for (const owner of ['acme-uk', 'acme-uk-london']) {
      const id = report[owner]!.request_id;
      const response = await cluster.request('GET', `/v1/reports/${id}`, key.acme!);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ request_id: id, account_id: owner, request_status: 'SUCCESS' });
      expect(await statusOf('acme', 'GET', `/v1/reports/${id}/download`)).toBe(302);
    }
    expect((await listed('acme')).sort()).toEqual(['acme', 'acme-uk', 'acme-uk-london'].map((a) => report[a]!.request_id).sort());
    expect((await listed('acme-uk')).sort()).toEqual(['acme-uk', 'acme-uk-london'].map((a) => report[a]!.request_id).sort());
    expect(await listed('acme-uk-london')).toEqual([report['acme-uk-london']!.request_id]);
    expect(await listed('globex')).toEqual([report.globex!.request_id]);
  });

  it("a child sees a report its parent requested for the child's account", async () => {
    const created = await cluster.createReport(key.acme!, { ...body, account_id: 'acme-uk-london' });
    const seen = await cluster.request('GET', `/v1/reports/${created.request_id}`, key['acme-uk-london']!);
    expect(seen.status).toBe(200);
    expect(await listed('acme-uk-london')).toContain(created.request_id);
    expect(await listed('globex')).not.toContain(created.request_id);
    await cluster.waitForStatus(key.acme!, created.request_id, ['SUCCESS']);
  });

  it('a parent may cancel a PENDING report of its child; a stranger may not', async () => {
    await cluster.stopWorker();
    try {
      const created = await cluster.createReport(key['acme-uk']!, body);
      expect(await statusOf('globex', 'DELETE', `/v1/reports/${created.request_id}`)).toBe(404);
      expect((await cluster.request('GET', `/v1/reports/${created.request_id}`, key['acme-uk']!)).body.request_status).toBe('PENDING');
      const cancelled = await cluster.request('DELETE', `/v1/reports/${created.request_id}`, key.acme!);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.request_status).toBe('ABORTED');
    } finally {
      await cluster.startWorker();
    }
  });

  it.each([
    ['a random id', '6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b'],
    ['a malformed id', 'not-a-report'],
    ['an SQL-looking id', "1' OR '1'='1"],
  ])('answers 404 for %s', async (_case, id) => {
    for (const [method, url] of [
      ['GET', `/v1/reports/${encodeURIComponent(id)}`],
      ['GET', `/v1/reports/${encodeURIComponent(id)}/download`],
      ['DELETE', `/v1/reports/${encodeURIComponent(id)}`],
    ] as const) {
      expect(await statusOf('acme', method, url)).toBe(404);
    }
  });

  it('answers 401 without a key, whatever the report', async () => {
    const id = report.acme!.request_id;
    for (const [method, url] of [
      ['GET', `/v1/reports/${id}`],
      ['GET', `/v1/reports/${id}/download`],
      ['DELETE', `/v1/reports/${id}`],
      ['GET', '/v1/reports'],
      ['POST', '/v1/reports'],
    ] as const) {
      const response = await cluster.api.app.inject({ method, url });
      expect({ method, url, status: response.statusCode }).toEqual({ method, url, status: 401 });
    }
  });
});
