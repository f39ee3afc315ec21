/**
 * A reseller's tree through the whole system: a parent with 20,000 subaccounts (where a UNION ALL of one scan per
 * account used to end in "stack depth limit exceeded") gets its report, its records and its usage, holding
 * exactly the tree's records; the same records under one account give the same file.
 */
import type { CdrRecord } from '@cdr-reports/domain';
import { cdrFactory, readReportFile, rowObjects, useReportCluster } from '@cdr-reports/testing';

const SUBACCOUNTS = 20_000;
const RECORDS = 2_000;
const MARCH = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };
const FIELDS = ['start_time', 'to', 'status', 'total_price'];

const subaccount = (i: number) => `reseller-${i}`;

function records(idGroup: string, accountOf: (i: number) => string): CdrRecord[] {
  const make = cdrFactory({ idGroup, startTime: (n) => new Date(Date.parse('2026-03-02T00:00:00Z') + n * 1_000_003).toISOString(), endAfterMs: 4_500 });
  return Array.from({ length: RECORDS }, (_, i) => make({ account_id: accountOf(i), to: `+4477009${String(i).padStart(5, '0')}`, status: i % 3 ? 'delivered' : 'failed' }));
}

describe('a parent with 20,000 subaccounts', () => {
  const cluster = useReportCluster();
  let resellerKey: string;
  let soloKey: string;
  // Spread over the tree in a stride, so that accounts interleave in time; a stranger's records alongside.
  const tree = records('9101', (i) => subaccount((i * 7919) % SUBACCOUNTS));
  const solo = records('9102', () => 'solo');
  const stranger = records('9103', () => 'stranger');

  beforeAll(async () => {
    resellerKey = await cluster.account('reseller');
    soloKey = await cluster.account('solo');
    await cluster.account('stranger');
    const ids = Array.from({ length: SUBACCOUNTS }, (_, i) => subaccount(i));
    await cluster.services.db.pool.query(
      `INSERT INTO accounts (id, name, parent_id, webhook_secret) SELECT id, id, 'reseller', 'whsec_test' FROM unnest($1::text[]) AS id`,
      [ids],
    );
    await cluster.load([...tree, ...solo, ...stranger]);
    await cluster.services.db.pool.query('ANALYZE');
  });

  it('gets the report of its whole tree, the same file as the same records under one account', async () => {
    const body = { product: 'SMS', ...MARCH, fields: FIELDS };
    const created = await cluster.createReport(resellerKey, { ...body, include_subaccounts: true });
    const done = await cluster.waitForStatus(resellerKey, created.request_id, ['SUCCESS', 'FAILED'], 60_000);
    expect(done).toMatchObject({ request_status: 'SUCCESS', items_count: RECORDS });
    const one = await cluster.waitForStatus(soloKey, (await cluster.createReport(soloKey, body)).request_id, ['SUCCESS', 'FAILED'], 60_000);
    expect(one).toMatchObject({ request_status: 'SUCCESS', items_count: RECORDS });

    const treeFile = await readReportFile(await cluster.download(done), 'gzip');
    const oneFile = await readReportFile(await cluster.download(one), 'gzip');
    expect(treeFile.header).toEqual(FIELDS);
    expect(rowObjects(treeFile)).toHaveLength(RECORDS);
    expect(treeFile.rows).toEqual(oneFile.rows);
  });

  it('pages its records over the whole tree, and totals its usage', async () => {
    const query = new URLSearchParams({ product: 'SMS', ...MARCH, include_subaccounts: 'true', fields: 'id,account_id,start_time', limit: '1000' });
    const seen: Array<{ id: string; account_id: string }> = [];
    let url: string | undefined = `/v1/records?${query}`;
    while (url) {
      const page = await cluster.request('GET', url, resellerKey);
      expect(page.status).toBe(200);
      seen.push(...page.body.records);
      url = page.body._links.next?.href;
    }
    expect(seen.map((r) => r.id)).toEqual(tree.map((r) => r.id));
    expect(new Set(seen.map((r) => r.account_id)).size).toBe(Math.min(RECORDS, SUBACCOUNTS));

    const usage = await cluster.request('GET', `/v1/usage?${new URLSearchParams({ product: 'SMS', ...MARCH, include_subaccounts: 'true', dimensions: 'status', metrics: 'count' })}`, resellerKey);
    expect(usage.status).toBe(200);
    expect(usage.body.data).toEqual([
      { status: 'delivered', count: tree.filter((r) => r.status === 'delivered').length },
      { status: 'failed', count: tree.filter((r) => r.status === 'failed').length },
    ]);
  });
});
