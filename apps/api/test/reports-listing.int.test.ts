import { useReportCluster } from '@cdr-reports/testing';

/**
 * GET /v1/reports: the caller's reports and its descendants', newest first, filtered by status and creation
 * time, in pages linked by `_links.next`. No worker runs: reports stay PENDING unless a test aborts them.
 */
describe('GET /v1/reports', () => {
  const cluster = useReportCluster({ worker: false });
  const key: Record<string, string> = {};
  /** Report ids in creation order, per account. */
  const created: { id: string; account: string; receiveTime: string }[] = [];
  const aborted = new Set<string>();

  const DAY = 86_400_000;
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  const body = (extra: Record<string, unknown> = {}) => ({
    product: 'SMS',
    date_start: new Date(today - 3 * DAY).toISOString(),
    date_end: new Date(today - 2 * DAY).toISOString(),
    ...extra,
  });

  type Page = { items: { request_id: string; request_status: string; account_id: string }[]; _links: { self: { href: string }; next?: { href: string } } };
  async function list(caller: string, query = ''): Promise<Page> {
    const response = await cluster.request('GET', `/v1/reports${query}`, key[caller]!);
    if (response.status !== 200) throw new Error(`GET /v1/reports${query} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body as Page;
  }
  /** Follows `_links.next` from the first page to the last; returns every page. */
  async function allPages(caller: string, query: string): Promise<Page[]> {
    const pages = [await list(caller, query)];
    for (let next = pages[0]!._links.next; next; next = pages[pages.length - 1]!._links.next) {
      expect(next.href).toMatch(/^\/v1\/reports\?/);
      pages.push(await list(caller, next.href.slice('/v1/reports'.length)));
      if (pages.length > 50) throw new Error('pagination does not end');
    }
    return pages;
  }
  const newestFirst = (account: string[]) =>
    created
      .filter((r) => account.includes(r.account))
      .map((r) => r.id)
      .reverse();

  beforeAll(async () => {
    key.acme = await cluster.account('acme');
    key['acme-uk'] = await cluster.account('acme-uk', 'acme');
    key.globex = await cluster.account('globex');
    // Interleaved, so that "newest first" and the account filter are both visible in one list.
    const plan = ['acme', 'acme', 'acme-uk', 'acme', 'globex', 'acme', 'acme-uk', 'acme', 'acme', 'acme', 'globex', 'acme-uk'];
    for (const account of plan) {
      const report = await cluster.createReport(key[account]!, body());
      created.push({ id: report.request_id, account, receiveTime: report.receive_time as string });
    }
    // Two of acme's are aborted, so the status filter has something to tell apart.
    for (const index of [1, 5]) {
      const id = created[index]!.id;
      const response = await cluster.request('DELETE', `/v1/reports/${id}`, key.acme!);
      expect(response.body.request_status).toBe('ABORTED');
      aborted.add(id);
    }
  });

  it("lists the caller's reports and its descendants', newest first, and no other account's", async () => {
    const page = await list('acme', '?limit=100');
    expect(page.items.map((r) => r.request_id)).toEqual(newestFirst(['acme', 'acme-uk']));
    expect(page._links.self.href).toBe('/v1/reports?limit=100');
    expect(page._links.next).toBeUndefined();
    // Items are full report resources.
    expect(page.items[0]).toMatchObject({ product: 'SMS', _links: { self: { href: `/v1/reports/${page.items[0]!.request_id}` } } });
  });

  it('shows a subaccount its own reports only, not its parent\'s', async () => {
    expect((await list('acme-uk')).items.map((r) => r.request_id)).toEqual(newestFirst(['acme-uk']));
    expect((await list('globex')).items.map((r) => r.request_id)).toEqual(newestFirst(['globex']));
  });

  /** Page sizes of `total` items at `limit` per page. */
  const sizes = (total: number, limit: number) => Array.from({ length: Math.ceil(total / limit) }, (_, i) => Math.min(limit, total - i * limit));

  it('pages through every report with limit and _links.next, with no duplicate and no gap', async () => {
    const expected = newestFirst(['acme', 'acme-uk']);
    expect(expected.length % 3).not.toBe(0);
    const pages = await allPages('acme', '?limit=3');
    expect(pages.map((p) => p.items.length)).toEqual(sizes(expected.length, 3));
    expect(pages.flatMap((p) => p.items.map((r) => r.request_id))).toEqual(expected);
    expect(pages[pages.length - 1]!._links.next).toBeUndefined();
  });

  it('ends with no next link when the last page is exactly full', async () => {
    const expected = newestFirst(['acme', 'acme-uk']);
    expect(expected.length % 2).toBe(0);
    const pages = await allPages('acme', '?limit=2');
    expect(pages.map((p) => p.items.length)).toEqual(sizes(expected.length, 2));
    expect(pages.flatMap((p) => p.items.map((r) => r.request_id))).toEqual(expected);
  });

  it('filters by status, and the next link keeps the filter', async () => {
    const pending = await allPages('acme', '?status=PENDING&limit=2');
    const expected = newestFirst(['acme', 'acme-uk']).filter((id) => !aborted.has(id));
    expect(pending.flatMap((p) => p.items.map((r) => r.request_id))).toEqual(expected);
    expect(pending.flatMap((p) => p.items.map((r) => r.request_status))).toEqual(expected.map(() => 'PENDING'));
    for (const page of pending.slice(1)) expect(page._links.self.href).toMatch(/status=PENDING/);

    const abortedPage = await list('acme', '?status=ABORTED');
    expect(abortedPage.items.map((r) => r.request_id)).toEqual(newestFirst(['acme']).filter((id) => aborted.has(id)));
    expect((await list('acme', '?status=SUCCESS')).items).toEqual([]);
  });

  it('filters by created_after (inclusive) and created_before (exclusive)', async () => {
    const own = created.filter((r) => r.account === 'acme' || r.account === 'acme-uk');
    const after = own[3]!;
    const before = own[7]!;
    const expected = own.slice(3, 7).map((r) => r.id).reverse();
    const query = `?created_after=${encodeURIComponent(after.receiveTime)}&created_before=${encodeURIComponent(before.receiveTime)}`;
    expect((await list('acme', query)).items.map((r) => r.request_id)).toEqual(expected);

    const paged = await allPages('acme', `${query}&limit=3`);
    expect(paged.flatMap((p) => p.items.map((r) => r.request_id))).toEqual(expected);

    const tomorrow = new Date(today + DAY).toISOString().slice(0, 10);
    expect((await list('acme', `?created_after=${tomorrow}`)).items).toEqual([]);
    expect((await list('acme', `?created_before=${tomorrow}&limit=100`)).items).toHaveLength(own.length);
  });

  it('accepts limit 1 and 100', async () => {
    expect((await list('acme', '?limit=1')).items).toHaveLength(1);
    expect((await list('acme', '?limit=100')).items).toHaveLength(newestFirst(['acme', 'acme-uk']).length);
  });

  it.each([
    ['limit', '?limit=0'],
    ['limit', '?limit=101'],
    ['limit', '?limit=abc'],
    ['limit', '?limit=-1'],
    ['limit', '?limit=2.5'],
    ['limit', '?limit='],
    ['status', '?status=pending'],
    ['status', '?status=DONE'],
    ['created_after', '?created_after=yesterday'],
    ['created_before', '?created_before=2026-13-45'],
    ['cursor', '?cursor=garbage'],
    ['cursor', `?cursor=${Buffer.from('r1:not-a-uuid').toString('base64url')}`],
    ['cursor', `?cursor=${Buffer.from('r2:00000000-0000-4000-8000-000000000000').toString('base64url')}`],
  ])('answers 400 naming %s for %s', async (name, query) => {
    const response = await cluster.request('GET', `/v1/reports${query}`, key.acme!);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.invalid_params).toEqual(expect.arrayContaining([{ name, reason: expect.any(String) }]));
  });
});
