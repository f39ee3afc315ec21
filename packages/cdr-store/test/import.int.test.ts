import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { csvHeader, csvLine, importCdrFile, listPartitions, ndjsonLine } from '@cdr-reports/cdr-store';
import type { CdrRecord } from '@cdr-reports/domain';
import { cdrFactory, createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

/** A valid SMS with a fresh id; `changes` override any column. */
const cdr = cdrFactory();

const csvOf = (records: CdrRecord[]) => csvHeader() + records.map(csvLine).join('');
const ndjsonOf = (records: CdrRecord[]) => records.map(ndjsonLine).join('');

describe('importing CDR files', () => {
  let db: TestDatabase;
  let dir: string;
  let files = 0;

  /** Writes `content` to a new file of the suite's temporary folder and returns its path. */
  async function file(content: string | Buffer, name = 'cdrs.csv'): Promise<string> {
    const target = path.join(dir, `${++files}-${name}`);
    await writeFile(target, content);
    return target;
  }

  async function stored(id: string): Promise<Record<string, string | null> | undefined> {
    const result = await db.pool.query(
      `SELECT id::text, account_id, product, direction, "from", "to",
              to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS start_utc,
              to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS end_utc,
              duration::text, billsec::text, status, hangup_cause, country, network, currency,
              price::text, total_price::text, parts::text, client_ref, message_body, tableoid::regclass::text AS partition
       FROM cdrs WHERE id = $1`,
      [id],
    );
    return result.rows[0];
  }

  const count = async (): Promise<number> => Number((await db.pool.query('SELECT count(*) AS n FROM cdrs')).rows[0].n);

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'cdr-import-'));
  });

  afterEach(async () => {
    await db.pool.query('TRUNCATE cdrs');
  });

  afterAll(async () => {
    // Every connection the importer took went back to the pool.
    expect(db.pool.totalCount - db.pool.idleCount).toBe(0);
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a CSV file and reports what it did', async () => {
    const records = [cdr(), cdr({ product: 'VOICE-CALL', status: 'answered', duration: '65', billsec: '60', parts: null }), cdr()];
    const summary = await importCdrFile(db.pool, await file(csvOf(records)));
    expect(summary).toMatchObject({
      format: 'csv',
      gzip: false,
      status: 'loaded',
      loadMode: 'copy',
      rowsRead: 3,
      inserted: 3,
      alreadyPresent: 0,
      rejected: 0,
      errors: [],
      rejectsFile: null,
      partitionsCreated: ['cdrs_p202603'],
    });
    expect(await count()).toBe(3);
    expect(await stored(records[1]!.id!)).toMatchObject({ product: 'VOICE-CALL', duration: '65', billsec: '60', parts: null });
  });

  it.each([
    ['plain NDJSON', (records: CdrRecord[]) => ndjsonOf(records), 'cdrs.ndjson', 'ndjson', false],
    ['gzip CSV named .csv', (records: CdrRecord[]) => gzipSync(csvOf(records)), 'cdrs.csv', 'csv', true],
    ['gzip NDJSON named .txt', (records: CdrRecord[]) => gzipSync(ndjsonOf(records)), 'cdrs.txt', 'ndjson', true],
    ['CSV named .ndjson.gz', (records: CdrRecord[]) => csvOf(records), 'cdrs.ndjson.gz', 'csv', false],
  ])('loads %s, recognising format and compression by content', async (_label, encode, name, format, gzip) => {
    const records = [cdr(), cdr({ client_ref: 'x' }), cdr({ parts: null, message_body: null })];
    const summary = await importCdrFile(db.pool, await file(encode(records), name));
    expect(summary).toMatchObject({ format, gzip, status: 'loaded', rowsRead: 3, inserted: 3 });
    for (const record of records) expect((await stored(record.id!))?.message_body).toBe(record.message_body);
  });

  it('keeps decimals exact and free text byte for byte', async () => {
    const bodies = [
      'comma, "double quotes", \'single\'',
      'line one\nline two\r\nline three\rend',
      'tab\there, backslash \\ and \\N and \\t literally',
      '😀🎉 emoji, 中文, مرحبا, Ünïcödé — and a trailing space ',
      '=HYPERLINK("http://x"),@SUM(1),+1,-1',
    ];
    const records = [
      cdr({ price: '0.00000001', total_price: '12345678901.12345678', message_body: bodies[0]! }),
      cdr({ price: '-0.5', total_price: '-123456789012.99999999', message_body: bodies[1]! }),
      cdr({ price: '0', total_price: '-0', message_body: bodies[2]! }),
      cdr({ price: '999999999999.99999999', total_price: '0.1', message_body: bodies[3]!, client_ref: bodies[4]! }),
      cdr({ message_body: bodies[4]!, client_ref: ' leading and trailing ' }),
    ];
    for (const content of [csvOf(records), ndjsonOf(records)]) {
      expect(await importCdrFile(db.pool, await file(content))).toMatchObject({ status: 'loaded', inserted: 5 });
      const rows = await Promise.all(records.map((r) => stored(r.id!)));
      expect(rows.map((r) => [r?.price, r?.total_price])).toEqual([
        ['0.00000001', '12345678901.12345678'],
        ['-0.5', '-123456789012.99999999'],
        ['0', '0'],
        ['999999999999.99999999', '0.1'],
        ['0.0360', '0.0360'],
      ]);
      expect(rows.map((r) => r?.message_body)).toEqual(bodies);
      expect(rows[3]?.client_ref).toBe(bodies[4]);
      expect(rows[4]?.client_ref).toBe(' leading and trailing ');
      await db.pool.query('TRUNCATE cdrs');
    }
  });

  it('stores timestamps as instants, whatever offset they were written with', async () => {
    const record = cdr({ start_time: '2026-03-31T23:30:00.123456-02:00', end_time: '2026-04-01T01:30:01.5Z' });
    await importCdrFile(db.pool, await file(csvOf([record])));
    // 23:30 at -02:00 is 01:30 UTC on 1 April: the April partition, not March's.
    expect(await stored(record.id!)).toMatchObject({
      start_utc: '2026-04-01T01:30:00.123456',
      end_utc: '2026-04-01T01:30:01.500000',
      partition: 'cdrs_p202604',
    });
  });

  it('creates the partitions of every month a file touches and routes each record to its month', async () => {
    const months = ['2025-11-30T23:59:59.999999Z', '2025-12-15T12:00:00Z', '2026-01-01T00:00:00Z', '2026-02-28T10:00:00+05:00'];
    const records = months.map((start_time) => cdr({ start_time, end_time: null }));
    const summary = await importCdrFile(db.pool, await file(csvOf(records)), { batchRows: 2 });
    expect(summary.partitionsCreated.sort()).toEqual(['cdrs_p202511', 'cdrs_p202512', 'cdrs_p202601', 'cdrs_p202602']);
    expect((await Promise.all(records.map((r) => stored(r.id!)))).map((r) => r?.partition)).toEqual([
      'cdrs_p202511',
      'cdrs_p202512',
      'cdrs_p202601',
      'cdrs_p202602',
    ]);
    expect((await listPartitions(db.pool)).map((p) => p.name)).toEqual(expect.arrayContaining(summary.partitionsCreated));
  });

  it('creates partitions only for the months present when a batch spans years', async () => {
    const records = [cdr({ start_time: '1999-06-01T00:00:00Z', end_time: null }), cdr({ start_time: '2026-05-01T00:00:00Z', end_time: null })];
    const summary = await importCdrFile(db.pool, await file(csvOf(records)));
    expect(summary.partitionsCreated.sort()).toEqual(['cdrs_p199906', 'cdrs_p202605']);
  });

  it('rejects a file with invalid rows whole, naming lines and reasons, and loads nothing of it', async () => {
    const good = cdr();
    const text =
      csvHeader() +
      csvLine(good) +
      csvLine(cdr({ price: '1,5' })) +
      csvLine(cdr({ message_body: 'spans\ntwo lines' })) +
      csvLine(cdr({ start_time: '2026-02-30T10:00:00Z' })) +
      '1,2,3\n' +
      csvLine(cdr({ start_time: '2026-04-01T00:00:00Z', end_time: null })) +
      csvLine(cdr({ status: 'answered' }));
    const summary = await importCdrFile(db.pool, await file(text));
    expect(summary).toMatchObject({ status: 'rejected', rowsRead: 7, inserted: 0, alreadyPresent: 0, rejected: 4, partitionsCreated: [] });
    expect(summary.errors).toEqual([
      { line: 3, reason: expect.stringMatching(/^price: "1,5" must be a decimal/) },
      { line: 6, reason: expect.stringMatching(/^start_time: "2026-02-30T10:00:00Z" is not a real date/) },
      { line: 7, reason: 'expected 21 fields as in the header, found 3' },
      { line: 9, reason: expect.stringMatching(/^status: "answered" must be one of submitted/) },
    ]);
    expect(await count()).toBe(0);
  });

  it('lists the first 20 bad rows but counts them all, and rolls back batches loaded before them', async () => {
    // Enough good rows (about 600 KB) that several batches reach the database before the file reads a bad one.
    const good = Array.from({ length: 2000 }, () => cdr({ start_time: '2027-02-01T00:00:00Z', end_time: null, message_body: 'x'.repeat(200) }));
    const records = [...good, ...Array.from({ length: 25 }, () => cdr({ currency: 'XYZ' }))];
    const summary = await importCdrFile(db.pool, await file(csvOf(records)), { batchRows: 100 });
    expect(summary).toMatchObject({ status: 'rejected', rowsRead: 2025, rejected: 25, inserted: 0, partitionsCreated: [] });
    expect(summary.errors).toHaveLength(20);
    expect(summary.errors[0]).toEqual({ line: 2002, reason: 'currency: "XYZ" must be an ISO 4217 code like EUR' });
    expect(summary.errors[19]?.line).toBe(2021);
    expect(await count()).toBe(0);
    // Months are created outside the file's transaction (so imports never block reports): an empty month
    // may stay behind, holding nothing.
    const leftover = await db.pool.query(`SELECT count(*)::int AS n FROM cdrs WHERE start_time >= '2027-02-01' AND start_time < '2027-03-01'`);
    expect(leftover.rows[0].n).toBe(0);
  });

  it.each([
    ['a missing and an unknown column', (h: string) => h.replace(',price,', ',cost,'), /^header: missing columns: price; unknown columns: "cost"$/],
    ['a repeated column', (h: string) => h.replace('\n', ',status\n'), /^header: unknown columns|repeated columns: status/],
    ['no header at all', () => '', /the file is empty/],
  ])('rejects a file with %s in its header', async (_label, mangle, reason) => {
    const content = mangle(csvHeader()) + (mangle(csvHeader()) === '' ? '' : csvLine(cdr()));
    const summary = await importCdrFile(db.pool, await file(content));
    expect(summary).toMatchObject({ status: 'rejected', inserted: 0 });
    expect(summary.errors[0]?.line).toBe(1);
    expect(summary.errors[0]?.reason).toMatch(reason);
  });

  it('accepts the columns in any order and empty cells as null', async () => {
    const record = cdr({ client_ref: null, network: null });
    const columns = Object.keys(record).reverse();
    const text = `${columns.join(',')}\n${columns.map((c) => (record[c] ?? '').replace(/^(.*[,"\n].*)$/s, (v) => `"${v.replace(/"/g, '""')}"`)).join(',')}\n`;
    expect(await importCdrFile(db.pool, await file(text))).toMatchObject({ status: 'loaded', inserted: 1 });
    expect(await stored(record.id!)).toMatchObject({ client_ref: null, network: null, message_body: record.message_body });
  });

  it('with skipInvalid loads the good rows and writes the bad ones, with line, reason and original text', async () => {
    const good = [cdr(), cdr(), cdr()];
    const badQuoted = csvLine(cdr({ network: 'Vodafone', message_body: 'multi\nline, "quoted"' })).trimEnd();
    const text = `${csvHeader()}${csvLine(good[0]!)}${badQuoted}\n${csvLine(good[1]!)}x"y\n${csvLine(good[2]!)}`;
    const source = await file(text);
    const summary = await importCdrFile(db.pool, source, { skipInvalid: true });
    expect(summary).toMatchObject({ status: 'loaded', rowsRead: 5, inserted: 3, rejected: 2, rejectsFile: `${source}.rejects.ndjson` });
    expect(await count()).toBe(3);
    const rejects = (await readFile(`${source}.rejects.ndjson`, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(rejects).toEqual([
      { line: 3, reason: expect.stringMatching(/^network: "Vodafone" must be an MCC-MNC/), row: badQuoted },
      { line: 6, reason: 'a quote inside an unquoted field', row: 'x"y' },
    ]);
  });

  it('with skipInvalid writes the rejects where asked, and no rejects file when every row is good', async () => {
    const target = path.join(dir, 'custom-rejects.ndjson');
    const withBad = await importCdrFile(db.pool, await file(ndjsonOf([cdr(), cdr({ id: 'nope' })]), 'x.ndjson'), {
      skipInvalid: true,
      rejectsPath: target,
    });
    expect(withBad).toMatchObject({ inserted: 1, rejected: 1, rejectsFile: target });
    const [line] = (await readFile(target, 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(line!)).toMatchObject({ line: 2, reason: expect.stringMatching(/^id: "nope" must be a UUID/) });

    const clean = await file(csvOf([cdr()]));
    expect(await importCdrFile(db.pool, clean, { skipInvalid: true })).toMatchObject({ rejected: 0, rejectsFile: null });
    await expect(stat(`${clean}.rejects.ndjson`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('loads nothing new when the same file is imported again, and says so', async () => {
    const source = await file(csvOf(Array.from({ length: 25 }, () => cdr())));
    expect(await importCdrFile(db.pool, source, { batchRows: 10 })).toMatchObject({ inserted: 25, alreadyPresent: 0, loadMode: 'copy' });
    expect(await importCdrFile(db.pool, source, { batchRows: 10 })).toMatchObject({
      status: 'loaded',
      rowsRead: 25,
      inserted: 0,
      alreadyPresent: 25,
      loadMode: 'staging',
    });
    expect(await count()).toBe(25);
  });

  it('counts exactly when a file partly overlaps what is stored', async () => {
    const old = Array.from({ length: 7 }, () => cdr());
    await importCdrFile(db.pool, await file(csvOf(old)));
    const fresh = Array.from({ length: 9 }, () => cdr());
    const mixed = [fresh[0]!, old[0]!, ...fresh.slice(1, 5), ...old.slice(1), ...fresh.slice(5)];
    expect(await importCdrFile(db.pool, await file(csvOf(mixed)), { batchRows: 4 })).toMatchObject({
      rowsRead: 16,
      inserted: 9,
      alreadyPresent: 7,
    });
    expect(await count()).toBe(16);
  });

  it('keeps the first of several records with the same key within one file, in one batch or across batches', async () => {
    const first = cdr({ message_body: 'first' });
    const again = { ...first, message_body: 'second, same id and start' };
    const sameIdOtherTime = { ...first, start_time: '2026-03-11T09:00:00Z', end_time: null, message_body: 'another start_time' };
    for (const batchRows of [100, 1]) {
      const summary = await importCdrFile(db.pool, await file(csvOf([first, cdr(), again, first, sameIdOtherTime])), { batchRows });
      expect(summary).toMatchObject({ rowsRead: 5, inserted: 3, alreadyPresent: 2 });
      const rows = await db.pool.query('SELECT message_body FROM cdrs WHERE id = $1 ORDER BY start_time', [first.id]);
      expect(rows.rows.map((r: { message_body: string }) => r.message_body)).toEqual(['first', 'another start_time']);
      await db.pool.query('TRUNCATE cdrs');
    }
  });

  it('writes the rejects of a file read twice (a re-import) once', async () => {
    const records = [cdr(), cdr({ price: 'free' }), cdr()];
    const source = await file(csvOf(records));
    await importCdrFile(db.pool, source, { skipInvalid: true });
    const again = await importCdrFile(db.pool, source, { skipInvalid: true, batchRows: 1 });
    expect(again).toMatchObject({ loadMode: 'staging', inserted: 0, alreadyPresent: 2, rejected: 1 });
    expect((await readFile(`${source}.rejects.ndjson`, 'utf8')).trimEnd().split('\n')).toHaveLength(1);
  });

  it('reads NDJSON by its own rules: numbers for counts, strings for prices, no unknown keys', async () => {
    const base = cdr();
    const { parts: _parts, client_ref: _ref, ...withoutNullable } = base;
    const lines = [
      JSON.stringify({ ...withoutNullable, duration: 0, billsec: 0 }),
      '',
      JSON.stringify({ ...cdr(), price: 0.036 }),
      JSON.stringify({ ...cdr(), colour: 'blue' }),
      JSON.stringify({ ...cdr(), direction: undefined }),
      '[1,2]',
      '{"id": broken',
      JSON.stringify({ ...cdr(), parts: 2 }),
    ];
    const summary = await importCdrFile(db.pool, await file(`${lines.join('\r\n')}\n`, 'x.ndjson'), { skipInvalid: true });
    expect(summary).toMatchObject({ format: 'ndjson', rowsRead: 7, inserted: 2, rejected: 5 });
    expect(summary.errors.map((e) => [e.line, e.reason.split(':')[0]])).toEqual([
      [3, 'price'],
      [4, 'unknown key "colour"'],
      [5, 'direction'],
      [6, 'a line must hold one JSON object'],
      [7, 'not valid JSON'],
    ]);
    expect(await stored(base.id!)).toMatchObject({ parts: null, client_ref: null, duration: '0' });
  });

  it('rejects a file that is not UTF-8, corrupt gzip and an empty file, as files', async () => {
    const latin1 = Buffer.concat([Buffer.from(csvOf([cdr()])), Buffer.from(csvLine(cdr({ message_body: 'caf\xe9' })), 'latin1')]);
    expect(await importCdrFile(db.pool, await file(latin1))).toMatchObject({
      status: 'rejected',
      errors: [{ line: expect.any(Number), reason: 'the file is not valid UTF-8' }],
    });
    const truncated = gzipSync(csvOf(Array.from({ length: 50 }, () => cdr()))).subarray(0, 200);
    expect(await importCdrFile(db.pool, await file(truncated))).toMatchObject({
      status: 'rejected',
      gzip: true,
      errors: [{ line: expect.any(Number), reason: expect.stringMatching(/^the gzip data is corrupt or truncated/) }],
    });
    expect(await importCdrFile(db.pool, await file(' \n\n'))).toMatchObject({ status: 'rejected', format: null, errors: [{ line: 1, reason: 'the file is empty' }] });
    expect(await count()).toBe(0);
  });

  it('fails loudly, loading nothing, when the database refuses a batch', async () => {
    // A constraint the validator knows nothing about makes PostgreSQL refuse the rows.
    const source = await file(csvOf([cdr(), cdr({ duration: '1', billsec: '1' })]));
    await db.pool.query(`ALTER TABLE cdrs ADD CONSTRAINT no_sms CHECK (product <> 'SMS') NOT VALID`);
    try {
      await expect(importCdrFile(db.pool, source)).rejects.toThrow(/no_sms/);
    } finally {
      await db.pool.query('ALTER TABLE cdrs DROP CONSTRAINT no_sms');
    }
    expect(await count()).toBe(0);
  });
});
