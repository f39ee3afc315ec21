import { cdrFactory, yesterdayAtUtc, useReportCluster } from '@cdr-reports/testing';

/**
 * GET /v1/records: the last records as JSON right now. A keyset cursor on (start_time, id) must never skip or
 * repeat a record while new ones arrive; ids can be looked up; everything else is refused with the field named.
 */
describe('GET /v1/records', () => {
  const cluster = useReportCluster({ worker: false });
  let keys: Record<string, string>;
  const windowStart = yesterdayAtUtc(0);
  const at = (minutes: number) => new Date(windowStart + minutes * 60_000).toISOString();
  const range = { date_start: at(0), date_end: at(24 * 60) };
  const acme = cdrFactory({ idGroup: 'a001', startTime: (n) => at(n), endAfterMs: 4_500 });
  const uk = cdrFactory({ idGroup: 'a002', startTime: (n) => at(n), endAfterMs: 4_500, columns: { account_id: 'acme-uk' } });
  const globex = cdrFactory({ idGroup: 'a003', startTime: (n) => at(n), endAfterMs: 4_500, columns: { account_id: 'globex' } });
  const loaded = { acme: [] as string[], uk: [] as string[], globex: [] as string[] };

  const get = (key: string, query: Record<string, string | string[]>) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
    return cluster.request('GET', `/v1/records?${params.toString()}`, key);
  };
  /** Every page from the first, following _links.next; `between` runs after each page. */
  async function allPages(key: string, query: Record<string, string>, between?: (page: number) => Promise<void>) {
    const ids: string[] = [];
    const statuses: string[] = [];
    let response = await get(key, query);
    for (let page = 1; ; page++) {
      expect(response.status).toBe(200);
      ids.push(...response.body.records.map((r: { id: string }) => r.id));
      statuses.push(response.body.request_status);
      if (!response.body._links.next) break;
      await between?.(page);
      response = await cluster.request('GET', response.body._links.next.href, key);
    }
    return { ids, statuses };
  }

  beforeAll(async () => {
    keys = { acme: await cluster.account('acme'), uk: await cluster.account('acme-uk', 'acme'), globex: await cluster.account('globex') };
    // 250 records a minute apart, 30 of them sharing one start_time (ties are broken by id).
    const records = [...Array.from({ length: 220 }, () => acme()), ...Array.from({ length: 30 }, () => acme({ start_time: at(500) }))];
    const ukRecords = Array.from({ length: 5 }, () => uk());
    const globexRecords = Array.from({ length: 5 }, () => globex());
    await cluster.load([...records, ...ukRecords, ...globexRecords]);
    loaded.acme = records.sort((a, b) => (a.start_time! === b.start_time! ? (a.id! < b.id! ? -1 : 1) : a.start_time! < b.start_time! ? -1 : 1)).map((r) => r.id!);
    loaded.uk = ukRecords.map((r) => r.id!);
    loaded.globex = globexRecords.map((r) => r.id!);
  }, 60_000);

  it('pages through every record once, in (start_time, id) order, TRUNCATED until the last page', async () => {
    const { ids, statuses } = await allPages(keys.acme!, { product: 'SMS', ...range, limit: '100' });
    expect(ids).toEqual(loaded.acme);
    expect(statuses).toEqual(['TRUNCATED', 'TRUNCATED', 'SUCCESS']);
  });

  it('answers records as JSON: integers as numbers, decimals as exact strings, times RFC 3339 in the asked zone', async () => {
    const response = await get(keys.acme!, { product: 'SMS', ...range, limit: '1', timezone: 'Europe/Paris', fields: 'id,start_time,duration,parts,price,hangup_cause' });
    expect(response.status).toBe(200);
    const [record] = response.body.records;
    expect(record).toEqual({ id: loaded.acme[0], start_time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/), duration: 0, parts: 1, price: '0.0360', hangup_cause: null });
    expect(Date.parse(record.start_time)).toBe(windowStart + 60_000);
    expect(response.body).toMatchObject({ request_status: 'TRUNCATED', items_count: 1, cursor: expect.any(String) });
  });

  it('never skips or repeats a record while new records arrive behind and ahead of the cursor', async () => {
    const late = cdrFactory({ idGroup: 'a004', startTime: (n) => at(n), endAfterMs: 4_500 });
    const arrivedAhead: string[] = [];
    const { ids } = await allPages(keys.acme!, { product: 'SMS', ...range, limit: '40' }, async (page) => {
      // Behind the cursor (already paged past) and ahead of it (still to come).
      const behind = late({ start_time: at(page * 10) });
      const ahead = late({ start_time: at(600 + page) });
      arrivedAhead.push(ahead.id!);
      await cluster.load([behind, ahead]);
    });
    expect(new Set(ids).size).toBe(ids.length);
    const original = ids.filter((id) => loaded.acme.includes(id));
    expect(original).toEqual(loaded.acme);
    for (const id of arrivedAhead) expect(ids).toContain(id);
    await cluster.services.db.pool.query(`DELETE FROM cdrs WHERE id::text LIKE '00000000-0000-4000-a004-%'`);
  });

  it('covers descendants with include_subaccounts, and no account the key cannot see', async () => {
    const parent = await allPages(keys.acme!, { product: 'SMS', ...range, limit: '1000', include_subaccounts: 'true' });
    expect(parent.ids.sort()).toEqual([...loaded.acme, ...loaded.uk].sort());
    const child = await allPages(keys.uk!, { product: 'SMS', ...range, limit: '1000' });
    expect(child.ids.sort()).toEqual([...loaded.uk].sort());
    expect((await get(keys.uk!, { product: 'SMS', ...range, account_id: 'acme' })).status).toBe(403);
    expect((await get(keys.globex!, { product: 'SMS', ...range, account_id: 'acme-uk' })).status).toBe(403);
  });

  it('looks records up by id, with the ids it could not find (including those of accounts the key cannot see)', async () => {
    const missing = '00000000-0000-4000-a0ff-000000000001';
    const response = await get(keys.acme!, { id: [loaded.acme[3]!, loaded.uk[0]!, loaded.globex[0]!, missing] });
    expect(response.status).toBe(200);
    expect(response.body.records.map((r: { id: string }) => r.id).sort()).toEqual([loaded.acme[3], loaded.uk[0]].sort());
    expect(response.body.ids_not_found.sort()).toEqual([loaded.globex[0], missing].sort());
    expect(response.body.records[0]).not.toHaveProperty('message_body');

    const own = await get(keys.acme!, { id: `${loaded.acme[3]},${loaded.uk[0]}`, include_subaccounts: 'false' });
    expect(own.body.ids_not_found).toEqual([loaded.uk[0]]);
    const tooMany = await get(keys.acme!, { id: Array.from({ length: 21 }, (_, i) => `00000000-0000-4000-a0ff-${String(i).padStart(12, '0')}`) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.invalid_params).toEqual([{ name: 'id', reason: 'at most 20 ids per request, got 21' }]);
    expect((await get(keys.acme!, { id: 'not-a-uuid' })).body.invalid_params[0].name).toBe('id');
  });

  it.each([
    [{ ...range }, 'product'],
    [{ product: 'SMS', date_start: at(0), date_end: new Date(windowStart - 32 * 86_400_000).toISOString() }, 'date_end'],
    [{ product: 'SMS', date_start: new Date(windowStart - 32 * 86_400_000).toISOString(), date_end: at(0) }, 'date_end'],
    [{ product: 'SMS', ...range, limit: '1001' }, 'limit'],
    [{ product: 'SMS', ...range, limit: '0' }, 'limit'],
    [{ product: 'SMS', ...range, cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'],
    [{ product: 'SMS', ...range, page: '2' }, 'page'],
    [{ product: 'SMS', ...range, fields: 'id,nope' }, 'fields'],
    [{ product: 'SMS', ...range, include_subaccounts: 'yes' }, 'include_subaccounts'],
  ])('refuses %j naming %s', async (query, field) => {
    const response = await get(keys.acme!, query as Record<string, string>);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.invalid_params.map((p: { name: string }) => p.name)).toContain(field);
  });
});
