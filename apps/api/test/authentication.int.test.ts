import type { FastifyInstance } from 'fastify';
import { AccountsRepository, ApiKeysRepository } from '@cdr-reports/db';
import { useReportCluster, type TestDatabase } from '@cdr-reports/testing';

describe('API authentication and account scoping', () => {
  const cluster = useReportCluster({ worker: false });
  let db: TestDatabase;
  let app: FastifyInstance;
  const key: Record<string, string> = {};

  beforeAll(async () => {
    db = cluster.services.db;
    const accounts = new AccountsRepository(db.pool);
    for (const [id, parentId] of [
      ['parent', undefined],
      ['child', 'parent'],
      ['grandchild', 'child'],
      ['stranger', undefined],
    ] as const) {
      key[id] = (await accounts.create({ name: id, id, parentId })).apiKey;
    }
    app = cluster.api.app;
  });

  const get = (url: string, authorization?: string) =>
    app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

  it('answers /healthz without a key', async () => {
    const response = await get('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['no Authorization header', undefined, /missing Authorization/],
    ['a malformed header', 'Basic dXNlcjpwYXNz', /malformed/],
    ['an unknown key', 'Bearer cdrk_unknown', /unknown or revoked/],
    ['an empty bearer', 'Bearer ', /malformed/],
  ])('answers 401 problem+json with WWW-Authenticate for %s', async (_case, authorization, detail) => {
    const response = await get('/v1/accounts', authorization);
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.json()).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.stringMatching(detail) });
  });

  it('lets a key see its account and every descendant, nothing else', async () => {
    const ids = async (who: string) =>
      ((await get('/v1/accounts', `Bearer ${key[who]}`)).json() as { items: { account_id: string }[] }).items.map((a) => a.account_id).sort();
    expect(await ids('parent')).toEqual(['child', 'grandchild', 'parent']);
    expect(await ids('child')).toEqual(['child', 'grandchild']);
    expect(await ids('grandchild')).toEqual(['grandchild']);
    expect(await ids('stranger')).toEqual(['stranger']);
  });

  it.each([
    ['parent', 'grandchild', 200],
    ['child', 'grandchild', 200],
    ['child', 'child', 200],
    ['child', 'parent', 404],
    ['grandchild', 'child', 404],
    ['stranger', 'parent', 404],
    ['parent', 'stranger', 404],
    ['parent', 'does-not-exist', 404],
  ])('key of %s reading account %s -> %i', async (who, target, status) => {
    const response = await get(`/v1/accounts/${target}`, `Bearer ${key[who]}`);
    expect(response.statusCode).toBe(status);
    if (status === 200) expect(response.json()).toMatchObject({ account_id: target });
    else expect(response.json()).toMatchObject({ status: 404, title: 'Not found' });
  });

  it('stops accepting a key as soon as it is revoked', async () => {
    const keys = new ApiKeysRepository(db.pool);
    const { key: created, apiKey } = await keys.create('child', 'short-lived');
    expect((await get('/v1/accounts', `Bearer ${apiKey}`)).statusCode).toBe(200);
    await keys.revoke(created.id);
    expect((await get('/v1/accounts', `Bearer ${apiKey}`)).statusCode).toBe(401);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await get('/v1/nothing-here', `Bearer ${key.parent}`);
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
