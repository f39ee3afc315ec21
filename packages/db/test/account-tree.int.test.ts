import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { AccountImportError, AccountsRepository, importAccounts, migrate, type AccountImportRow } from '@cdr-reports/db';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

/** The account tree kept as a closure table (migration 006): reads, authorization probes, bulk creation. */
describe('account tree', () => {
  let db: TestDatabase;
  let accounts: AccountsRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    accounts = new AccountsRepository(db.pool);
  });
  afterAll(() => db.drop());

  /** Every (ancestor, descendant, depth) the closure should hold, computed from parent_id by walking up in JS. */
  async function expectedClosure(): Promise<string[]> {
    const rows = (await db.pool.query<{ id: string; parent_id: string | null }>('SELECT id, parent_id FROM accounts')).rows;
    const parent = new Map(rows.map((r) => [r.id, r.parent_id]));
    const pairs: string[] = [];
    for (const { id } of rows) {
      let depth = 0;
      for (let at: string | null | undefined = id; at; at = parent.get(at), depth++) pairs.push(`${at}>${id}@${depth}`);
    }
    return pairs.sort();
  }
  async function storedClosure(): Promise<string[]> {
    const rows = (await db.pool.query<{ pair: string }>(`SELECT ancestor_id || '>' || descendant_id || '@' || depth AS pair FROM account_closure`)).rows;
    return rows.map((r) => r.pair).sort();
  }

  it('a chain of depth 50, created one account at a time: each account sees exactly those below it', async () => {
    const chain = Array.from({ length: 51 }, (_, i) => `deep.${String(i).padStart(2, '0')}`);
    for (const [i, id] of chain.entries()) await accounts.create({ id, name: id, ...(i > 0 && { parentId: chain[i - 1] }) });

    expect(await accounts.descendantIds('deep.00')).toEqual(chain);
    expect(await accounts.descendantIds('deep.25')).toEqual(chain.slice(25));
    expect((await accounts.selfAndDescendants('deep.49')).map((a) => a.id)).toEqual(['deep.49', 'deep.50']);
    expect(await accounts.isSelfOrDescendant('deep.00', 'deep.50')).toBe(true);
    expect(await accounts.isSelfOrDescendant('deep.10', 'deep.11')).toBe(true);
    expect(await accounts.isSelfOrDescendant('deep.50', 'deep.00')).toBe(false);
    expect(await accounts.isSelfOrDescendant('deep.11', 'deep.10')).toBe(false);
    const depth = await db.pool.query(`SELECT depth FROM account_closure WHERE ancestor_id = 'deep.00' AND descendant_id = 'deep.50'`);
    expect(depth.rows).toEqual([{ depth: 50 }]);
    expect(await storedClosure()).toEqual(await expectedClosure());
  });

  it('a chain of depth 50 inserted in one statement, children before parents, is filed the same', async () => {
    const rows: AccountImportRow[] = Array.from({ length: 50 }, (_, i) => ({
      line: i + 2,
      id: `rev-${49 - i}`,
      name: 'reversed',
      ...(49 - i > 0 && { parentId: `rev-${48 - i}` }),
    }));
    expect(await importAccounts(db.pool, rows)).toEqual({ created: 50, alreadyPresent: 0 });
    expect((await accounts.descendantIds('rev-0')).length).toBe(50);
    expect(await accounts.isSelfOrDescendant('rev-0', 'rev-49')).toBe(true);
    expect(await storedClosure()).toEqual(await expectedClosure());
  });

  it('20,000 children imported at once: the tree, its pages and its ids in id order', async () => {
    await accounts.create({ id: 'wide', name: 'Wide' });
    const ids = Array.from({ length: 20_000 }, (_, i) => `wide-${String(i).padStart(5, '0')}`);
    // Shuffled, so that the closure does not depend on the file's order.
    const shuffled = [...ids].sort((a, b) => (a.split('').reverse().join('') < b.split('').reverse().join('') ? -1 : 1));
    const result = await importAccounts(db.pool, shuffled.map((id, i) => ({ line: i + 2, id, name: `Sub ${id}`, parentId: 'wide' })));
    expect(result).toEqual({ created: 20_000, alreadyPresent: 0 });

    expect(await accounts.descendantIds('wide')).toEqual(['wide', ...ids]);
    expect(await accounts.descendantIds('wide-00042')).toEqual(['wide-00042']);
    expect(await accounts.isSelfOrDescendant('wide', 'wide-19999')).toBe(true);
    expect(await accounts.isSelfOrDescendant('wide-00001', 'wide-00002')).toBe(false);

    const first = await accounts.page({ under: 'wide', limit: 1000 });
    expect(first.map((a) => a.id)).toEqual(['wide', ...ids.slice(0, 999)]);
    const later = await accounts.page({ under: 'wide', after: ids[14_999], limit: 1000 });
    expect(later.map((a) => a.id)).toEqual(ids.slice(15_000, 16_000));
    const children = await accounts.page({ under: 'wide', parentId: 'wide', after: ids[19_990], limit: 100 });
    expect(children.map((a) => a.id)).toEqual(ids.slice(19_991));
    expect(children[0]).toMatchObject({ name: `Sub ${ids[19_991]}`, parentId: 'wide' });

    // Every imported account has its own webhook secret.
    const secrets = await db.pool.query(`SELECT count(DISTINCT webhook_secret)::int AS n FROM accounts WHERE parent_id = 'wide' AND webhook_secret ~ '^whsec_'`);
    expect(secrets.rows[0].n).toBe(20_000);
  });

  it('an account added to a tree is among its descendants from then on, at every level above it', async () => {
    expect(await accounts.descendantIds('deep.48')).toEqual(['deep.48', 'deep.49', 'deep.50']);
    await accounts.create({ id: 'deep.48-late', name: 'Late', parentId: 'deep.48' });
    expect(await accounts.descendantIds('deep.48')).toEqual(['deep.48', 'deep.48-late', 'deep.49', 'deep.50']);
    expect(await accounts.descendantIds('deep.00')).toContain('deep.48-late');
    expect(await accounts.isSelfOrDescendant('deep.00', 'deep.48-late')).toBe(true);
    expect(await accounts.isSelfOrDescendant('deep.49', 'deep.48-late')).toBe(false);
  });

  it('unreadable: the given ids that are neither the account nor below it, unknown ones included, each once', async () => {
    expect(await accounts.unreadable('deep.10', ['deep.10', 'deep.11', 'deep.50'])).toEqual([]);
    expect(await accounts.unreadable('deep.10', ['deep.09', 'deep.11', 'wide-00001', 'nobody', 'deep.09'])).toEqual(['deep.09', 'wide-00001', 'nobody']);
    expect(await accounts.unreadable('wide', ['wide-00001', 'wide-19999'])).toEqual([]);
    expect(await accounts.unreadable('wide', [])).toEqual([]);
  });

  it('refuses to move an account or to close a cycle of parents, which would break the closure', async () => {
    await expect(db.pool.query(`UPDATE accounts SET parent_id = 'wide' WHERE id = 'deep.20'`)).rejects.toThrow(/cannot change its id or its parent/);
    await expect(db.pool.query(`UPDATE accounts SET parent_id = NULL WHERE id = 'deep.20'`)).rejects.toThrow(/cannot change/);
    await db.pool.query(`UPDATE accounts SET name = 'renamed' WHERE id = 'deep.20'`);
    await expect(
      db.pool.query(`INSERT INTO accounts (id, name, parent_id, webhook_secret) VALUES ('cy-a', 'a', 'cy-b', 'whsec_x'), ('cy-b', 'b', 'cy-a', 'whsec_x')`),
    ).rejects.toThrow(/cycle/);
    expect(await accounts.find('cy-a')).toBeUndefined();
    expect(await storedClosure()).toEqual(await expectedClosure());
  });

  describe('importAccounts', () => {
    it('leaves accounts already there with the same parent as they are, and creates the rest', async () => {
      const result = await importAccounts(db.pool, [
        { line: 2, id: 'wide-00001', name: 'again', parentId: 'wide' },
        { line: 3, id: 'wide-extra', name: 'Extra', parentId: 'wide' },
      ]);
      expect(result).toEqual({ created: 1, alreadyPresent: 1 });
      expect((await accounts.find('wide-00001'))?.name).toBe('Sub wide-00001');
    });

    it('rejects the whole batch, naming each bad line: bad id, empty name, repeated id, unknown parent, cycle, a move', async () => {
      const error: AccountImportError = await importAccounts(db.pool, [
        { line: 2, id: 'ok-1', name: 'fine' },
        { line: 3, id: 'bad id', name: 'x' },
        { line: 4, id: 'ok-2', name: '  ' },
        { line: 5, id: 'ok-1', name: 'twice' },
        { line: 6, id: 'orphan', name: 'x', parentId: 'nowhere' },
        { line: 7, id: 'loop-a', name: 'x', parentId: 'loop-b' },
        { line: 8, id: 'loop-b', name: 'x', parentId: 'loop-a' },
        { line: 9, id: 'wide-00002', name: 'x', parentId: 'deep.00' },
        { line: 10, id: 'self', name: 'x', parentId: 'self' },
      ]).then(
        () => {
          throw new Error('import succeeded');
        },
        (e: unknown) => e as AccountImportError,
      );
      expect(error).toBeInstanceOf(AccountImportError);
      expect(error.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 9, 10]);
      expect(error.problems.find((p) => p.line === 5)?.reason).toMatch(/ok-1 is already on line 2/);
      expect(error.problems.find((p) => p.line === 6)?.reason).toMatch(/parent nowhere .* neither in the database nor in the file/);
      expect(error.problems.find((p) => p.line === 7)?.reason).toMatch(/loop-a \(line 7\) -> loop-b \(line 8\) -> loop-a form a cycle/);
      expect(error.problems.find((p) => p.line === 9)?.reason).toMatch(/exists with parent wide, not deep.00/);
      expect(await accounts.find('ok-1')).toBeUndefined();
    });
  });
});

/** Migration 006 fills the closure from the accounts that exist when it runs. */
describe('account closure backfill', () => {
  let db: TestDatabase;
  afterAll(() => db?.drop());

  it('files every account created before the migration with all its ancestors', async () => {
    db = await createTestDatabase();
    // Back to the schema before 006, with a tree in it, then migrate again.
    await db.pool.query(`DROP TABLE account_closure; DROP FUNCTION account_closure_insert CASCADE; DROP FUNCTION accounts_refuse_move CASCADE;
      DROP INDEX accounts_parent_id_idx; CREATE INDEX accounts_parent_idx ON accounts (parent_id);
      DELETE FROM schema_migrations WHERE version LIKE '006%'`);
    const values = [`('root', 'r', NULL)`, `('root.a', 'a', 'root')`, `('root.a-1', 'a1', 'root.a')`, `('root.b', 'b', 'root')`, `('solo', 's', NULL)`];
    await db.pool.query(`INSERT INTO accounts (id, name, parent_id, webhook_secret) SELECT id, name, parent_id, 'whsec_x' FROM (VALUES ${values.join(', ')}) v (id, name, parent_id)`);
    const files = (await readdir(path.join(__dirname, '..', 'migrations'))).filter((f) => f.startsWith('006'));
    expect(await migrate(db.pool)).toEqual(files);

    const accounts = new AccountsRepository(db.pool);
    expect(await accounts.descendantIds('root')).toEqual(['root', 'root.a', 'root.a-1', 'root.b']);
    expect(await accounts.descendantIds('root.a')).toEqual(['root.a', 'root.a-1']);
    expect(await accounts.descendantIds('solo')).toEqual(['solo']);
    const depth = await db.pool.query(`SELECT depth FROM account_closure WHERE ancestor_id = 'root' AND descendant_id = 'root.a-1'`);
    expect(depth.rows).toEqual([{ depth: 2 }]);
  });
});
