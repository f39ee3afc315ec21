import { AccountsRepository, ApiKeysRepository, migrate } from '@cdr-reports/db';
import { ConflictError, NotFoundError, ValidationError } from '@cdr-reports/domain';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

describe('accounts and API keys', () => {
  let db: TestDatabase;
  let accounts: AccountsRepository;
  let keys: ApiKeysRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    accounts = new AccountsRepository(db.pool);
    keys = new ApiKeysRepository(db.pool);
  });
  afterAll(() => db.drop());

  it('migrations are idempotent: a second run applies nothing', async () => {
    expect(await migrate(db.pool)).toEqual([]);
    const tables = await db.pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(['accounts', 'api_keys', 'schema_migrations']));
  });

  it('creates an account with a key shown once and a Standard Webhooks secret', async () => {
    const created = await accounts.create({ name: 'Acme', id: 'acme' });
    expect(created.account).toMatchObject({ id: 'acme', name: 'Acme', parentId: null });
    expect(created.apiKey).toMatch(/^cdrk_[A-Za-z0-9_-]{43}$/);
    expect(created.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(created.webhookSecret.slice(6), 'base64')).toHaveLength(32);
    // Only a hash of the key is stored.
    const stored = await db.pool.query('SELECT key_hash FROM api_keys WHERE account_id = $1', ['acme']);
    expect(stored.rows).toHaveLength(1);
    expect(JSON.stringify(stored.rows)).not.toContain(created.apiKey.slice(5));
    expect(await keys.authenticate(created.apiKey)).toEqual({ accountId: 'acme', keyId: created.apiKeyId });
  });

  it('rejects a duplicate id, a bad id, an empty name and an unknown parent', async () => {
    await expect(accounts.create({ name: 'Again', id: 'acme' })).rejects.toBeInstanceOf(ConflictError);
    await expect(accounts.create({ name: 'Bad', id: 'has space' })).rejects.toBeInstanceOf(ValidationError);
    await expect(accounts.create({ name: ' ', id: 'blank' })).rejects.toBeInstanceOf(ValidationError);
    await expect(accounts.create({ name: 'Orphan', parentId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('resolves a hierarchy of any depth, and only downwards', async () => {
    await accounts.create({ name: 'Parent', id: 'p' });
    await accounts.create({ name: 'Child 1', id: 'p-c1', parentId: 'p' });
    await accounts.create({ name: 'Child 2', id: 'p-c2', parentId: 'p' });
    await accounts.create({ name: 'Grandchild', id: 'p-c1-g', parentId: 'p-c1' });
    await accounts.create({ name: 'Other', id: 'other' });

    expect((await accounts.selfAndDescendants('p')).map((a) => a.id).sort()).toEqual(['p', 'p-c1', 'p-c1-g', 'p-c2']);
    expect((await accounts.selfAndDescendants('p-c1')).map((a) => a.id).sort()).toEqual(['p-c1', 'p-c1-g']);
    expect((await accounts.selfAndDescendants('p-c1-g')).map((a) => a.id)).toEqual(['p-c1-g']);
    expect(await accounts.selfAndDescendants('missing')).toEqual([]);

    expect(await accounts.isSelfOrDescendant('p', 'p-c1-g')).toBe(true);
    expect(await accounts.isSelfOrDescendant('p', 'p')).toBe(true);
    expect(await accounts.isSelfOrDescendant('p-c1', 'p')).toBe(false);
    expect(await accounts.isSelfOrDescendant('p-c1', 'p-c2')).toBe(false);
    expect(await accounts.isSelfOrDescendant('p', 'other')).toBe(false);
    expect(await accounts.isSelfOrDescendant('p', 'missing')).toBe(false);
  });

  it('creates, lists and revokes keys; a revoked or unknown key authenticates nothing', async () => {
    const { key, apiKey } = await keys.create('acme', 'billing export');
    expect(await keys.authenticate(apiKey)).toEqual({ accountId: 'acme', keyId: key.id });
    const listed = await keys.list('acme');
    expect(listed.map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(apiKey);

    const revoked = await keys.revoke(key.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await keys.authenticate(apiKey)).toBeUndefined();
    // Revoking twice keeps the first time.
    expect((await keys.revoke(key.id)).revokedAt).toEqual(revoked.revokedAt);

    expect(await keys.authenticate(`${apiKey.slice(0, -1)}x`)).toBeUndefined();
    expect(await keys.authenticate('not-a-key')).toBeUndefined();
    await expect(keys.revoke('key_missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(keys.create('missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('authenticates concurrent requests together, each with its own answer, in fewer queries than requests', async () => {
    const live = await Promise.all(['one', 'two', 'three'].map((name) => keys.create('acme', name)));
    const revoked = await keys.create('acme', 'revoked');
    await keys.revoke(revoked.key.id);
    const presented = Array.from({ length: 60 }, (_, i) =>
      i % 5 === 3 ? revoked.apiKey : i % 5 === 4 ? `cdrk_${'x'.repeat(43)}` : live[i % 3]!.apiKey,
    );
    const query = jest.spyOn(db.pool, 'query');
    try {
      const principals = await Promise.all(presented.map((key) => keys.authenticate(key)));
      principals.forEach((principal, i) => {
        const expected = i % 5 === 3 || i % 5 === 4 ? undefined : { accountId: 'acme', keyId: live[i % 3]!.key.id };
        expect({ i, principal }).toEqual({ i, principal: expected });
      });
      expect(query.mock.calls.length).toBeLessThan(presented.length / 4);
    } finally {
      query.mockRestore();
    }
  });
});
