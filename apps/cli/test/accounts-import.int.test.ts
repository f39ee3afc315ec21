import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '@cdr-reports/config';
import { AccountsRepository } from '@cdr-reports/db';
import { TEST_REDIS_URL, captureOutput, createTestDatabase, type TestDatabase } from '@cdr-reports/testing';
import { accountsCommand } from '../src/commands/accounts.command';
import { CliContext } from '../src/context';

/** cli accounts import FILE: a reseller's tree from a CSV, all or nothing, against real PostgreSQL. */
describe('cli accounts import', () => {
  let db: TestDatabase;
  let dir: string;
  let accounts: AccountsRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    accounts = new AccountsRepository(db.pool);
    await accounts.create({ id: 'reseller', name: 'Reseller' });
    dir = await mkdtemp(path.join(tmpdir(), 'accounts-import-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  });

  async function run(argv: string[]): Promise<{ code: number; out: any; err: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- printed JSON
    const ctx = new CliContext(parseConfig({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: 'silent' }));
    try {
      const { result: code, stdout, stderr } = await captureOutput(() => accountsCommand.run(argv, ctx));
      return { code, out: stdout ? JSON.parse(stdout) : undefined, err: stderr };
    } finally {
      await ctx.close();
    }
  }
  async function file(name: string, text: string): Promise<string> {
    const at = path.join(dir, name);
    await writeFile(at, text);
    return at;
  }

  it('imports 20,000 subaccounts in a few seconds, children before their parents, and a re-run changes nothing', async () => {
    // Regions under the reseller, customers under the regions; the file lists customers first.
    const regions = Array.from({ length: 20 }, (_, r) => `region-${r}`);
    const customers = Array.from({ length: 19_980 }, (_, i) => `cust-${String(i).padStart(5, '0')}`);
    const lines = [
      'id,name,parent_id',
      ...customers.map((id, i) => `${id},"Customer ${i}, Ltd ""${id}""",region-${i % 20}`),
      ...regions.map((id) => `${id},Region ${id},reseller`),
    ];
    const at = await file('tree.csv', `${lines.join('\r\n')}\r\n`);
    const started = Date.now();
    const result = await run(['import', at]);
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ code: 0, out: { file: at, rows: 20_000, created: 20_000, already_present: 0 } });
    // Not a benchmark: a bound far above what one INSERT takes, far below 20,000 round trips on a busy machine.
    expect(elapsed).toBeLessThan(30_000);

    const tree = await accounts.descendantIds('reseller');
    expect(tree).toHaveLength(20_001);
    expect(await accounts.descendantIds('region-3')).toEqual(['region-3', ...customers.filter((_, i) => i % 20 === 3)].sort());
    expect(await accounts.find('cust-00021')).toMatchObject({ name: 'Customer 21, Ltd "cust-00021"', parentId: 'region-1' });
    const secrets = await db.pool.query(`SELECT count(DISTINCT webhook_secret)::int AS n FROM accounts WHERE id LIKE 'cust-%' AND webhook_secret ~ '^whsec_'`);
    expect(secrets.rows[0].n).toBe(19_980);

    expect((await run(['import', at])).out).toMatchObject({ rows: 20_000, created: 0, already_present: 20_000 });
    // Adding to a tree: the rows already there count as present, the new ones are created.
    const more = await file('more.csv', 'id,name,parent_id\ncust-00001,Customer 1,region-1\nlate-1,Late,cust-00001\n');
    expect((await run(['import', more])).out).toMatchObject({ created: 1, already_present: 1 });
    expect(await accounts.isSelfOrDescendant('reseller', 'late-1')).toBe(true);
  });

  it('rejects a file with bad rows whole, printing each problem with its line number', async () => {
    const at = await file(
      'bad.csv',
      [
        'id,name,parent_id',
        'ok-1,Fine,reseller',
        'bad id,Spaces,reseller',
        'ok-1,Again,reseller',
        'orphan,Orphan,nowhere',
        'loop-a,A,loop-b',
        'loop-b,B,loop-a',
        'cust-00001,Moved,reseller',
        'empty,,reseller',
        '',
      ].join('\n'),
    );
    const result = await run(['import', at]);
    expect(result.code).toBe(1);
    expect(result.out).toBeUndefined();
    expect(result.err.split('\n')).toEqual([
      `error: ${at}: 6 problem(s), nothing imported`,
      expect.stringMatching(/^ {2}line 3: id "bad id" is not an account id/),
      '  line 4: account ok-1 is already on line 2',
      '  line 5: parent nowhere of account orphan is neither in the database nor in the file',
      '  line 6: accounts loop-a (line 6) -> loop-b (line 7) -> loop-a form a cycle of parents',
      '  line 8: account cust-00001 exists with parent region-1, not reseller: accounts cannot move',
      '  line 9: name of empty is empty',
      '',
    ]);
    expect(await accounts.find('ok-1')).toBeUndefined();
  });

  it('rejects a file that is not id,name,parent_id: a wrong header, a wrong field count, an open quote', async () => {
    const header = await run(['import', await file('header.csv', 'id,parent_id,name\na,b,c\n')]);
    expect(header.code).toBe(1);
    expect(header.err).toContain('line 1: the first line must be the header id,name,parent_id');
    const fields = await run(['import', await file('fields.csv', 'id,name,parent_id\na,A\n"b","B\nstill b",\nc,C,,extra\n')]);
    expect(fields.err).toContain('line 2: has 2 field(s)');
    expect(fields.err).toContain('line 5: has 4 field(s)');
    expect(fields.err).not.toContain('line 3');
    const quote = await run(['import', await file('quote.csv', 'id,name,parent_id\na,"open,\n')]);
    expect(quote.err).toContain('line 2: a quoted field is not closed');
    expect(await accounts.find('b')).toBeUndefined();
  });

  it('needs exactly one readable file', async () => {
    await expect(run(['import'])).rejects.toThrow(/one FILE/);
    await expect(run(['import', path.join(dir, 'missing.csv')])).rejects.toThrow(/cannot read/);
  });
});
