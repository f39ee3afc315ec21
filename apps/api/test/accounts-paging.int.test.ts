import { ApiKeysRepository, importAccounts } from '@cdr-reports/db';
import { ACME_AND_GLOBEX, createAccounts, startReportCluster, type ReportCluster } from '@cdr-reports/testing';

/**
 * GET /v1/accounts: the key's account and its descendants in id order, in pages linked by `_links.next`
 * (like GET /v1/reports), or with parent_id one level of the tree. A tree of 20,001 accounts is read to its end.
 */
describe('GET /v1/accounts', () => {
  let cluster: ReportCluster;
  const key: Record<string, string> = {};
  const children = Array.from({ length: 20_000 }, (_, i) => `big-${String(i).padStart(5, '0')}`);

  type Page = { items: { account_id: string; name: string; parent_id: string | null; _links: { self: { href: string } } }[]; _links: { self: { href: string }; next?: { href: string } } };
  async function list(caller: string, query = ''): Promise<Page> {
    const response = await cluster.request('GET', `/v1/accounts${query}`, key[caller]!);
    if (response.status !== 200) throw new Error(`GET /v1/accounts${query} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body as Page;
  }
  /** Follows `_links.next` from the first page to the last; returns every page. */
  async function allPages(caller: string, query: string): Promise<Page[]> {
    const pages = [await list(caller, query)];
    for (let next = pages[0]!._links.next; next; next = pages[pages.length - 1]!._links.next) {
      expect(next.href).toMatch(/^\/v1\/accounts\?/);
      pages.push(await list(caller, next.href.slice('/v1/accounts'.length)));
      if (pages.length > 100) throw new Error('pagination does not end');
    }
    return pages;
  }
  const ids = (pages: Page[]) => pages.flatMap((page) => page.items.map((a) => a.account_id));

  beforeAll(async () => {
    cluster = await startReportCluster({ worker: false });
    Object.assign(key, await createAccounts(cluster, ACME_AND_GLOBEX));
    key.big = await cluster.account('big');
    await importAccounts(
      cluster.services.db.pool,
      children.map((id, line) => ({ line: line + 2, id, name: `Reseller customer ${id}`, parentId: 'big' })),
    );
    key['big-00007-team'] = await cluster.account('big-00007-team', 'big-00007');
    key['big-00007'] = (await new ApiKeysRepository(cluster.services.db.pool).create('big-00007')).apiKey;
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it("lists the key's account and its descendants in id order, 100 a page by default, and no other account", async () => {
    const page = await list('acme');
    expect(page.items.map((a) => a.account_id)).toEqual(['acme', 'acme-uk', 'acme-uk-london']);
    expect(page.items[1]).toMatchObject({ name: 'acme-uk', parent_id: 'acme', _links: { self: { href: '/v1/accounts/acme-uk' } } });
    expect(page._links).toEqual({ self: { href: '/v1/accounts' } });
    expect((await list('acme-uk')).items.map((a) => a.account_id)).toEqual(['acme-uk', 'acme-uk-london']);
    expect((await list('globex')).items.map((a) => a.account_id)).toEqual(['globex']);

    const big = await list('big');
    expect(big.items).toHaveLength(100);
    expect(big._links.next?.href).toMatch(/^\/v1\/accounts\?cursor=/);
  });

  it('pages of 1000 through 20,002 accounts to the end: every account once, in id order, the query kept in each link', async () => {
    const pages = await allPages('big', '?limit=1000');
    expect(pages).toHaveLength(21);
    expect(pages.slice(0, 20).every((page) => page.items.length === 1000)).toBe(true);
    expect(pages[20]!.items).toHaveLength(2);
    expect(pages[20]!._links.next).toBeUndefined();
    expect(pages[1]!._links.self.href).toMatch(/^\/v1\/accounts\?limit=1000&cursor=/);
    const expected = ['big', ...children.slice(0, 8), 'big-00007-team', ...children.slice(8)];
    expect(ids(pages)).toEqual(expected);
  });

  it('parent_id lists one level: the direct children of that account, paged the same way', async () => {
    const pages = await allPages('big', '?parent_id=big&limit=1000');
    expect(pages).toHaveLength(20);
    expect(ids(pages)).toEqual(children);
    expect(pages[0]!.items[0]).toMatchObject({ account_id: 'big-00000', parent_id: 'big', name: 'Reseller customer big-00000' });

    expect(ids(await allPages('big', '?parent_id=big-00007&limit=1'))).toEqual(['big-00007-team']);
    expect(ids(await allPages('acme', '?parent_id=acme'))).toEqual(['acme-uk']);
    expect(ids(await allPages('acme', '?parent_id=acme-uk'))).toEqual(['acme-uk-london']);
    expect(ids(await allPages('acme', '?parent_id=acme-uk-london'))).toEqual([]);
    // A page with no next link when the last child ends it exactly.
    const exact = await list('acme', '?parent_id=acme&limit=1');
    expect(exact._links.next).toBeUndefined();
  });

  it.each([
    ['another tree', 'acme', 'globex'],
    ['its own parent, for a subaccount key', 'acme-uk', 'acme'],
    ['an account that does not exist', 'acme', 'nobody'],
  ])('parent_id of %s answers 404, like GET /v1/accounts/{id}', async (_case, caller, parent) => {
    const response = await cluster.request('GET', `/v1/accounts?parent_id=${parent}`, key[caller]!);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 404, detail: `account ${parent} not found` });
    expect((await cluster.request('GET', `/v1/accounts/${parent}`, key[caller]!)).status).toBe(404);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=-5', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${Buffer.from('r1:acme').toString('base64url')}`, 'cursor'],
    [`cursor=${Buffer.from('a1:has space').toString('base64url')}`, 'cursor'],
    ['parent_id=has%20space', 'parent_id'],
    ['parent_id=', 'parent_id'],
    ['page=2', 'page'],
  ])('?%s answers 400 naming %s', async (query, name) => {
    const response = await cluster.request('GET', `/v1/accounts?${query}`, key.acme!);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.invalid_params).toEqual([{ name, reason: expect.any(String) }]);
  });

  it('names every bad parameter at once', async () => {
    const response = await cluster.request('GET', '/v1/accounts?limit=5000&cursor=x&parent_id=a%20b&sort=name', key.acme!);
    expect(response.status).toBe(400);
    expect(response.body.invalid_params.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit', 'parent_id', 'sort']);
  });

  it('a cursor from another listing only moves the position: it never shows an account outside the key\'s tree', async () => {
    const first = await list('big', '?limit=1');
    const cursor = new URL(first._links.next!.href, 'http://x').searchParams.get('cursor')!;
    expect(ids([await list('acme', `?cursor=${cursor}`)])).toEqual([]);
    expect(ids([await list('globex', `?cursor=${cursor}&parent_id=globex`)])).toEqual([]);
  });

  it('GET /v1/accounts/{id} reads any account of the tree, at any depth', async () => {
    expect((await cluster.request('GET', '/v1/accounts/big-00007-team', key.big!)).body).toMatchObject({ account_id: 'big-00007-team', parent_id: 'big-00007' });
    expect((await cluster.request('GET', '/v1/accounts/big-00008', key['big-00007']!)).status).toBe(404);
  });
});
