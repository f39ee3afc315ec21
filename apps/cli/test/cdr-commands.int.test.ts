import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseConfig } from '@cdr-reports/config';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';
import { cdrGenerateCommand } from '../src/commands/cdr-generate.command';
import { cdrImportCommand } from '../src/commands/cdr-import.command';
import type { Command } from '../src/commands/command';
import { CliContext, UsageError } from '../src/context';

describe('cli cdr import and cdr generate', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'cdr-cli-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a command and returns its exit code and what it wrote to standard output. */
  async function run(command: Command, argv: string[]): Promise<{ code: number; stdout: string }> {
    const ctx = new CliContext(parseConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent' }));
    let stdout = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    });
    try {
      return { code: await command.run(argv, ctx), stdout };
    } finally {
      write.mockRestore();
      await ctx.close();
    }
  }

  /** The JSON documents a command printed, one after the other. */
  const documents = (stdout: string): Record<string, unknown>[] => stdout.split(/(?<=^\})\n/m).filter((d) => d.trim()).map((d) => JSON.parse(d));

  const count = async (): Promise<number> => (await db.pool.query('SELECT count(*)::int AS n FROM cdrs')).rows[0].n;

  const generateArgs = ['--rows', '500', '--accounts', 'acme,globex', '--from', '2026-03-01', '--to', '2026-03-03', '--seed', '11'];

  it('generates a gzip CSV file, imports it, and imports it again without duplicates', async () => {
    const out = path.join(dir, 'cdrs.csv.gz');
    const generated = await run(cdrGenerateCommand, [...generateArgs, '--out', out]);
    expect(generated.code).toBe(0);
    expect(documents(generated.stdout)[0]).toMatchObject({ rows: 500, seed: 11, format: 'csv', gzip: true, out });
    expect(gunzipSync(await readFile(out)).toString('utf8').split('\n')[0]).toMatch(/^id,account_id,product,/);

    const first = await run(cdrImportCommand, [out]);
    expect(first.code).toBe(0);
    expect(documents(first.stdout)).toEqual([
      expect.objectContaining({ file: out, format: 'csv', gzip: true, status: 'loaded', rows_read: 500, inserted: 500, already_present: 0, rejected: 0 }),
    ]);
    const second = await run(cdrImportCommand, [out, out]);
    expect(documents(second.stdout).map((d) => [d.inserted, d.already_present])).toEqual([
      [0, 500],
      [0, 500],
    ]);
    expect(await count()).toBe(500);
    await db.pool.query('TRUNCATE cdrs');
  });

  it('generates the same records for the same seed, to standard output, as NDJSON', async () => {
    const a = await run(cdrGenerateCommand, [...generateArgs, '--format', 'ndjson']);
    const b = await run(cdrGenerateCommand, [...generateArgs, '--format', 'ndjson']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.trimEnd().split('\n')).toHaveLength(500);
  });

  it('loads generated records straight into the store with --load', async () => {
    const loaded = await run(cdrGenerateCommand, [...generateArgs, '--load']);
    expect(loaded.code).toBe(0);
    expect(documents(loaded.stdout)[0]).toMatchObject({ rows: 500, seed: 11, status: 'loaded', inserted: 500, rows_read: 500 });
    expect(await count()).toBe(500);
    await db.pool.query('TRUNCATE cdrs');
  });

  it('exits with 1 for a rejected file, and with --skip-invalid loads the rest', async () => {
    const good = path.join(dir, 'one.csv');
    await run(cdrGenerateCommand, [...generateArgs, '--rows', '3', '--out', good]);
    const text = await readFile(good, 'utf8');
    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, `${text}not,a,record\n`);

    const rejected = await run(cdrImportCommand, [bad]);
    expect(rejected.code).toBe(1);
    expect(documents(rejected.stdout)[0]).toMatchObject({ status: 'rejected', rejected: 1, errors: [{ line: expect.any(Number), reason: 'expected 21 fields as in the header, found 3' }] });
    expect(await count()).toBe(0);

    const rejects = path.join(dir, 'bad.rejects');
    const skipped = await run(cdrImportCommand, ['--skip-invalid', '--rejects', rejects, bad]);
    expect(skipped.code).toBe(0);
    expect(documents(skipped.stdout)[0]).toMatchObject({ status: 'loaded', inserted: 3, rejected: 1, rejects_file: rejects });
    expect(JSON.parse(await readFile(rejects, 'utf8'))).toMatchObject({ reason: 'expected 21 fields as in the header, found 3', row: 'not,a,record' });
  });

  it.each([
    [cdrImportCommand, [], /at least one file/],
    [cdrImportCommand, ['--rejects', 'x', 'a.csv'], /--skip-invalid/],
    [cdrImportCommand, ['/nonexistent/cdrs.csv'], /cannot read/],
    [cdrGenerateCommand, ['--accounts', 'acme'], /--rows/],
    [cdrGenerateCommand, ['--rows', '10'], /--accounts/],
    [cdrGenerateCommand, ['--rows', 'ten', '--accounts', 'acme'], /--rows/],
    [cdrGenerateCommand, ['--rows', '10', '--accounts', 'bad id'], /not a valid account id/],
    [cdrGenerateCommand, ['--rows', '10', '--accounts', 'acme', '--from', 'yesterday'], /--from/],
    [cdrGenerateCommand, ['--rows', '10', '--accounts', 'acme', '--from', '2026-03-02', '--to', '2026-03-01'], /after --from/],
    [cdrGenerateCommand, ['--rows', '10', '--accounts', 'acme', '--format', 'xml'], /--format/],
    [cdrGenerateCommand, ['--rows', '10', '--accounts', 'acme', '--load', '--out', 'x.csv'], /exclude/],
  ])('refuses bad arguments with a usage error (%#)', async (command, argv, message) => {
    await expect(run(command, argv)).rejects.toThrow(UsageError);
    await expect(run(command, argv)).rejects.toThrow(message);
  });
});
