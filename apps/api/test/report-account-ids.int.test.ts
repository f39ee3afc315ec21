import { importAccounts } from '@cdr-reports/db';
import {
  ACME_AND_GLOBEX,
  cdrFactory,
  createAccounts,
  minutesAfter,
  readReportFile,
  rowObjects,
  startReportCluster,
  yesterdayAtUtc,
  type ReportCluster,
} from '@cdr-reports/testing';

/**
 * account_ids: a report (or a schedule's reports, or a records/usage read) over an explicit list of accounts the
 * key can read, instead of one account with or without its tree. Validated (400 naming the field), authorized
 * (403 naming the refused ids), stored and echoed as given; the worker exports exactly those accounts. And a
 * tree report reads the tree when it runs: an account added between two reports is in the second.
 */
describe('reports over account_ids and trees', () => {
  let cluster: ReportCluster;
  const key: Record<string, string> = {};

  const HOUR = 3_600_000;
  const windowStart = yesterdayAtUtc(9);
  const record = cdrFactory({ idGroup: '8a1d', startTime: minutesAfter(windowStart), columns: { end_time: null, price: '0.0400', total_price: '0.0400', message_body: null } });
  const sms = (account: string) => record({ account_id: account });
  const body = (extra: Record<string, unknown> = {}) => ({
    product: 'SMS',
    date_start: new Date(windowStart).toISOString(),
    date_end: new Date(windowStart + 2 * HOUR).toISOString(),
    ...extra,
  });
  const resellerChildren = Array.from({ length: 20_000 }, (_, i) => `rs-${String(i).padStart(5, '0')}`);

  async function reportCount(): Promise<number> {
    return (await cluster.services.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n;
  }
  async function accountsInFile(reportId: string, caller: string): Promise<string[]> {
    const report = await cluster.waitForStatus(key[caller]!, reportId, ['SUCCESS']);
    const content = await readReportFile(await cluster.download(report), 'gzip');
    return rowObjects(content).map((row) => row.account_id!).sort();
  }

  beforeAll(async () => {
    // No worker at first: the validation and authorization tests leave their reports PENDING (or abort them).
    cluster = await startReportCluster({ worker: false });
    Object.assign(key, await createAccounts(cluster, ACME_AND_GLOBEX));
    key.reseller = await cluster.account('reseller');
    await importAccounts(cluster.services.db.pool, resellerChildren.map((id, i) => ({ line: i + 2, id, name: id, parentId: 'reseller' })));
    await cluster.load(['acme', 'acme-uk', 'acme-uk-london', 'globex'].flatMap((account) => [sms(account), sms(account)]));
  });

  afterAll(async () => {
    await cluster?.close();
  });

  describe('validation: 400 naming the field, nothing created', () => {
    it.each([
      ['an empty list', [], 'account_ids', /non-empty list/],
      // These two are caught by the route's JSON Schema, in its words.
      ['a string', 'acme-uk', 'account_ids', /array/],
      ['numbers', [1, 2], 'account_ids', /string/],
      ['a bad id', ['acme-uk', 'has space'], 'account_ids', /"has space" is not an account id/],
      ['an id twice', ['acme-uk', 'acme', 'acme-uk'], 'account_ids', /lists "acme-uk" more than once/],
    ])('%s', async (_case, accountIds, name, reason) => {
      const before = await reportCount();
      const response = await cluster.request('POST', '/v1/reports', key.acme!, body({ account_ids: accountIds }));
      expect(response.status).toBe(400);
      expect(response.body.invalid_params).toEqual([{ name, reason: expect.stringMatching(reason) }]);
      expect(await reportCount()).toBe(before);
    });

    it('with include_subaccounts: true (false is fine)', async () => {
      const response = await cluster.request('POST', '/v1/reports', key.acme!, body({ account_ids: ['acme-uk'], include_subaccounts: true }));
      expect(response.status).toBe(400);
      expect(response.body.invalid_params).toEqual([{ name: 'include_subaccounts', reason: expect.stringMatching(/cannot be true with account_ids/) }]);
      expect((await cluster.request('POST', '/v1/reports', key.acme!, body({ account_ids: ['acme-uk'], include_subaccounts: false }))).status).toBe(202);
    });

    it('over 20,000 ids', async () => {
      const ids = Array.from({ length: 20_001 }, (_, i) => `x${i}`);
      const response = await cluster.request('POST', '/v1/reports', key.acme!, body({ account_ids: ids }));
      expect(response.status).toBe(400);
      expect(response.body.invalid_params).toEqual([{ name: 'account_ids', reason: expect.stringMatching(/at most 20000/) }]);
    });
  });

  describe('authorization: 403 naming the ids the key cannot read, nothing created', () => {
    it.each([
      ['another tree and an unknown id', 'acme', ['acme-uk', 'globex', 'nobody'], /accounts globex, nobody$/],
      ['its parent, for a subaccount key', 'acme-uk', ['acme-uk-london', 'acme'], /account acme$/],
      ['a sibling tree', 'globex', ['acme'], /account acme$/],
    ])('%s', async (_case, caller, accountIds, detail) => {
      const before = await reportCount();
      const response = await cluster.request('POST', '/v1/reports', key[caller]!, body({ account_ids: accountIds }));
      expect(response.status).toBe(403);
      expect(response.body.detail).toMatch(/^this API key cannot request reports for /);
      expect(response.body.detail).toMatch(detail);
      expect(await reportCount()).toBe(before);
    });

    it('names the first five refused ids and counts the rest', async () => {
      const refused = resellerChildren.slice(0, 8);
      const response = await cluster.request('POST', '/v1/reports', key.acme!, body({ account_ids: ['acme', ...refused] }));
      expect(response.status).toBe(403);
      expect(response.body.detail).toBe(`this API key cannot request reports for accounts ${refused.slice(0, 5).join(', ')} and 3 more`);
    });
  });

  it('accepts a list as large as a tree of 20,000 accounts (a body over 64 KiB), stored and echoed as given', async () => {
    const ids = [...resellerChildren].reverse();
    const created = await cluster.createReport(key.reseller!, body({ account_ids: ids }));
    expect(created).toMatchObject({ account_id: 'reseller', include_subaccounts: false });
    expect(created.account_ids).toEqual(ids);
    expect((await cluster.request('GET', `/v1/reports/${created.request_id}`, key.reseller!)).body.account_ids).toEqual(ids);
    // Not exported here: this suite is about who may ask, not how fast 20,000 accounts are read.
    expect((await cluster.request('DELETE', `/v1/reports/${created.request_id}`, key.reseller!)).body.request_status).toBe('ABORTED');
  });

  describe('schedules', () => {
    const schedule = (report: Record<string, unknown>) => ({ name: 'Listed accounts', report: { product: 'SMS', ...report } });

    it('keep account_ids, and their runs report on them', async () => {
      const created = await cluster.request('POST', '/v1/schedules', key.acme!, schedule({ account_ids: ['acme-uk-london', 'acme'] }));
      expect(created.status).toBe(201);
      expect(created.body.report).toMatchObject({ account_id: 'acme', account_ids: ['acme-uk-london', 'acme'], include_subaccounts: false });
      const run = await cluster.request('POST', `/v1/schedules/${created.body.id}/run`, key.acme!, { period_start: '2026-03-15' });
      expect(run.status).toBe(202);
      expect(run.body).toMatchObject({ account_ids: ['acme-uk-london', 'acme'], schedule_id: created.body.id });
    });

    it('refuse ids the key cannot read (403 naming them) and the combination with include_subaccounts (400)', async () => {
      const foreign = await cluster.request('POST', '/v1/schedules', key['acme-uk']!, schedule({ account_ids: ['acme-uk-london', 'globex'] }));
      expect(foreign.status).toBe(403);
      expect(foreign.body.detail).toBe('this API key cannot schedule reports for account globex');
      const both = await cluster.request('POST', '/v1/schedules', key.acme!, schedule({ account_ids: ['acme-uk'], include_subaccounts: true }));
      expect(both.status).toBe(400);
      expect(both.body.invalid_params).toEqual([{ name: 'report.include_subaccounts', reason: expect.any(String) }]);

      const created = await cluster.request('POST', '/v1/schedules', key['acme-uk']!, schedule({ account_ids: ['acme-uk-london'] }));
      expect(created.status).toBe(201);
      const patched = await cluster.request('PATCH', `/v1/schedules/${created.body.id}`, key['acme-uk']!, schedule({ account_ids: ['acme-uk-london', 'acme'] }));
      expect(patched.status).toBe(403);
      expect(patched.body.detail).toBe('this API key cannot schedule reports for account acme');
    });
  });

  describe('records and usage take account_ids comma-separated', () => {
    const query = (extra: Record<string, string>) =>
      new URLSearchParams({ product: 'SMS', date_start: new Date(windowStart).toISOString(), date_end: new Date(windowStart + 2 * HOUR).toISOString(), ...extra }).toString();

    it('reads exactly those accounts', async () => {
      const records = await cluster.request('GET', `/v1/records?${query({ account_ids: 'acme-uk-london,acme', fields: 'id,account_id', limit: '100' })}`, key.acme!);
      expect(records.status).toBe(200);
      expect(records.body.records.map((r: { account_id: string }) => r.account_id).sort()).toEqual(['acme', 'acme', 'acme-uk-london', 'acme-uk-london']);
      const usage = await cluster.request('GET', `/v1/usage?${query({ account_ids: 'acme-uk', dimensions: 'account_id', metrics: 'count' })}`, key.acme!);
      expect(usage.status).toBe(200);
      expect(usage.body.data).toEqual([{ account_id: 'acme-uk', count: 2 }]);
    });

    it('403 for ids the key cannot read, 400 with include_subaccounts=true', async () => {
      const foreign = await cluster.request('GET', `/v1/records?${query({ account_ids: 'acme-uk,globex' })}`, key.acme!);
      expect(foreign.status).toBe(403);
      expect(foreign.body.detail).toBe('this API key cannot read records of account globex');
      const both = await cluster.request('GET', `/v1/usage?${query({ account_ids: 'acme-uk', include_subaccounts: 'true' })}`, key.acme!);
      expect(both.status).toBe(400);
      expect(both.body.invalid_params.map((p: { name: string }) => p.name)).toEqual(['include_subaccounts']);
    });
  });

  describe('with a worker', () => {
    beforeAll(async () => {
      await cluster.startWorker();
    });

    it('a report over account_ids holds exactly those accounts’ records', async () => {
      const created = await cluster.createReport(key.acme!, body({ account_ids: ['acme-uk-london', 'acme'] }));
      expect(await accountsInFile(created.request_id, 'acme')).toEqual(['acme', 'acme', 'acme-uk-london', 'acme-uk-london']);
    });

    it('an account added to the tree between two reports is in the second', async () => {
      const first = await cluster.createReport(key.acme!, body({ include_subaccounts: true }));
      expect(await accountsInFile(first.request_id, 'acme')).toEqual(['acme', 'acme', 'acme-uk', 'acme-uk', 'acme-uk-london', 'acme-uk-london']);

      await cluster.account('acme-uk-london.night-shift', 'acme-uk-london');
      await cluster.load([sms('acme-uk-london.night-shift')]);
      const second = await cluster.createReport(key['acme-uk']!, body({ include_subaccounts: true }));
      expect(await accountsInFile(second.request_id, 'acme-uk')).toEqual(['acme-uk', 'acme-uk', 'acme-uk-london', 'acme-uk-london', 'acme-uk-london.night-shift']);
    });
  });
});
