/**
 * What a finished report file holds, byte for byte: CSV format and quoting, formula escaping, exact decimals,
 * nulls, row order, the object's name and headers in the bucket, gzip and zip, empty results.
 * Files are read back with gunzip/unzip and Python's csv module, never with the exporter's own code.
 */
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CdrRecord } from '@cdr-reports/domain';
import {
  cdrFactory,
  expectedSummary,
  inFileOrder,
  micros,
  normalDecimal,
  readReportFile,
  rowObjects,
  useReportCluster,
  type ReportFileContent,
  type ReportResource,
} from '@cdr-reports/testing';

// Written out here rather than taken from the catalog: the file's header is a public contract.
const ALL_COLUMNS = [
  'id', 'account_id', 'product', 'direction', 'from', 'to', 'start_time', 'answer_time', 'end_time', 'duration', 'billsec',
  'status', 'hangup_cause', 'country', 'network', 'currency', 'price', 'total_price', 'parts', 'client_ref', 'message_body',
];
const TIMESTAMP_COLUMNS = new Set(['start_time', 'answer_time', 'end_time']);
const MARCH = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };

/**
 * A valid SMS of account acme with a fresh id, started at a minute past 09:00 that follows its sequence and
 * delivered 4.5 s after it started, unless the test says otherwise; `changes` override any column.
 */
const cdr = cdrFactory({ startTime: (n) => `2026-03-10T09:${String(n % 60).padStart(2, '0')}:00Z`, endAfterMs: 4500 });

const FORMULA_START = /^[=+\-@\t\r]/;
/** The cell a value must become: free text that could start a formula gets a leading apostrophe. */
function expectedCell(column: string, value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (column === 'client_ref' || column === 'message_body') return FORMULA_START.test(value) ? `'${value}` : value;
  if (column === 'from' || column === 'to') return FORMULA_START.test(value) && !/^\+?\d+$/.test(value) ? `'${value}` : value;
  if (column === 'id') return value.toLowerCase();
  return value;
}

/** Compares every cell of every row with the records, timestamps as instants with the expected offset. */
function expectRows(content: ReportFileContent, records: CdrRecord[], offset = '+00:00'): void {
  const expected = inFileOrder(records);
  const rows = rowObjects(content);
  expect(rows.map((row) => row.id)).toEqual(expected.map((record) => record.id!.toLowerCase()));
  rows.forEach((row, i) => {
    const record = expected[i]!;
    for (const column of content.header) {
      const cell = row[column]!;
      const value = record[column] ?? null;
      if (TIMESTAMP_COLUMNS.has(column) && value !== null) {
        expect({ id: record.id, column, offset: cell.slice(-6) }).toEqual({ id: record.id, column, offset });
        expect({ id: record.id, column, micros: micros(cell) }).toEqual({ id: record.id, column, micros: micros(value) });
      } else {
        expect({ id: record.id, column, cell }).toEqual({ id: record.id, column, cell: expectedCell(column, value) });
      }
    }
  });
}

/** The bytes of the CSV outside its quoted fields (each quoted field replaced by Q). */
const unquoted = (csv: string) => csv.replace(/"(?:[^"]|"")*"/g, 'Q');

/** The raw CSV line (without its newline) of the record with this id, when it holds no quoted line end. */
function rawLine(content: ReportFileContent, id: string): string | undefined {
  return content.csv.toString('utf8').split('\n').find((line) => line.startsWith(`${id},`));
}

// Free text every way a CSV writer can get wrong, and every character that starts a spreadsheet formula.
const QUOTING = [
  cdr({ client_ref: 'a,b', message_body: `comma, "double quotes", 'single'` }),
  cdr({ client_ref: 'say "hi"', message_body: 'line one\nline two\r\nline three\rend' }),
  cdr({ client_ref: '🎉 emoji 🎂', message_body: 'Grüße — 您的验证码 — Ваш код — مرحبا 🚕' }),
  cdr({ client_ref: "O'Brien \\ path", message_body: '  leading and trailing spaces  ' }),
  cdr({ client_ref: '"', message_body: '""' }),
  cdr({ client_ref: 'ends with newline\n', message_body: '\n' }),
  // COPY's end-of-data marker as a value.
  cdr({ client_ref: '\\.', message_body: '\\.\n\\.' }),
];
const FORMULAS = [
  cdr({ client_ref: '=1+2', message_body: '=HYPERLINK("http://example.com","click")' }),
  cdr({ client_ref: '+1 555 0100', message_body: '+ plus first' }),
  cdr({ client_ref: '-42+1', message_body: '-minus first' }),
  cdr({ client_ref: '@SUM(A1:A9)', message_body: '@at first' }),
  cdr({ client_ref: '\tTAB', message_body: '\ttab first' }),
  cdr({ client_ref: '\rCR', message_body: '\rcarriage return first' }),
  // Harmless: the formula character is not first, or the apostrophe is already there.
  cdr({ client_ref: '1=1', message_body: "'=already escaped" }),
  // E.164 numbers start with + and are data: verbatim.
  cdr({ from: '+12025550100', to: '+447700900999', client_ref: 'e164' }),
];
const DECIMALS = [
  cdr({ currency: 'GBP', price: '0.0125', total_price: '0.0125' }),
  cdr({ currency: 'GBP', price: '-0.5', total_price: '-0.5' }),
  cdr({ currency: 'EUR', price: '0.00000001', total_price: '999999999999.99999999' }),
  cdr({ currency: 'EUR', price: '12345678.12345678', total_price: '0.10000000' }),
  cdr({ currency: 'USD', price: '0', total_price: '100' }),
  cdr({ currency: 'USD', price: '0.1', total_price: '0.2' }),
];
const NULLS = cdr({
  id: '00000000-0000-4000-8000-0000000000aa',
  start_time: '2026-03-11T08:00:00Z',
  end_time: null,
  status: 'submitted',
  country: null,
  network: null,
  parts: null,
  client_ref: null,
  message_body: null,
  price: '0.0400',
  total_price: '0.0400',
});
// Order: the same start_time with ids given out of order, and start_times a microsecond apart.
const ORDER = [
  cdr({ id: '00000000-0000-4000-8000-0000000000f3', start_time: '2026-03-12T12:00:00Z' }),
  cdr({ id: '00000000-0000-4000-8000-0000000000f1', start_time: '2026-03-12T12:00:00Z' }),
  cdr({ id: 'FFFFFFFF-0000-4000-8000-0000000000f2', start_time: '2026-03-12T12:00:00Z' }),
  cdr({ id: '00000000-0000-4000-8000-0000000000f0', start_time: '2026-03-12T12:00:00.000001Z' }),
  cdr({ id: '00000000-0000-4000-8000-0000000000ef', start_time: '2026-03-12T11:59:59.999999Z' }),
  // The same instant written with an offset.
  cdr({ id: '00000000-0000-4000-8000-0000000000f4', start_time: '2026-03-12T13:00:00+01:00' }),
];
const ACME_SMS = [...QUOTING, ...FORMULAS, ...DECIMALS, NULLS, ...ORDER];
// Must never appear in an acme SMS report of March.
const OTHERS = [
  cdr({ product: 'VOICE-CALL', status: 'answered', duration: '65', billsec: '60', parts: null, message_body: null, hangup_cause: 'NORMAL_CLEARING' }),
  cdr({ product: 'MESSAGES', status: 'read' }),
  cdr({ account_id: 'other' }),
  cdr({ start_time: '2026-04-01T00:00:00Z' }),
  cdr({ start_time: '2026-02-28T23:59:59.999999Z' }),
];

describe('worker: report file content', () => {
  const cluster = useReportCluster();
  let acme: string;
  let raw: string;

  beforeAll(async () => {
    acme = await cluster.account('acme');
    await cluster.account('other');
    raw = await cluster.account('raw');
    await cluster.load([...ACME_SMS, ...OTHERS]);
  });

  /** Creates a report, waits for SUCCESS and reads its file back with the standard tools. */
  async function report(key: string, body: Record<string, unknown>): Promise<{ report: ReportResource; file: Buffer; content: ReportFileContent }> {
    const created = await cluster.createReport(key, body);
    const done = await cluster.waitForStatus(key, created.request_id, ['SUCCESS', 'FAILED'], 20_000);
    expect({ status: done.request_status, error: done.error ?? null }).toEqual({ status: 'SUCCESS', error: null });
    const file = await cluster.download(done);
    const content = await readReportFile(file, (body.compression as 'gzip' | 'zip' | undefined) ?? 'gzip');
    expect(done.items_count).toBe(content.rows.length);
    return { report: done, file, content };
  }

  it('writes every column as RFC 4180 CSV: header, quoting, \\n line ends with a final newline, empty cells for null', async () => {
    const { report: done, content } = await report(acme, { product: 'SMS', ...MARCH, include_message: true });
    const text = content.csv.toString('utf8');
    // Valid UTF-8 that survives a round trip unchanged.
    expect(Buffer.from(text, 'utf8').equals(content.csv)).toBe(true);
    expect(text.startsWith(`${ALL_COLUMNS.join(',')}\n`)).toBe(true);
    expect(content.header).toEqual(ALL_COLUMNS);
    expect(text.endsWith('\n')).toBe(true);
    // Outside quoted fields there is no carriage return, so every record ends with a bare \n.
    expect(unquoted(text)).not.toContain('\r');
    expect(unquoted(text).split('\n')).toHaveLength(ACME_SMS.length + 2);
    expect(done.items_count).toBe(ACME_SMS.length);
    expectRows(content, ACME_SMS);

    // Byte for byte: quoting only where needed, quotes doubled, line ends inside quotes kept.
    expect(text).toContain(`,"a,b","comma, ""double quotes"", 'single'"\n`);
    expect(text).toContain(`,"say ""hi""","line one\nline two\r\nline three\rend"\n`);
    expect(text).toContain(`,🎉 emoji 🎂,Grüße — 您的验证码 — Ваш код — مرحبا 🚕\n`);
    expect(text).toContain(`,O'Brien \\ path,  leading and trailing spaces  \n`);
    expect(text).toContain(`,"""",""""""\n`);
    expect(text).toContain(`,"ends with newline\n","\n"\n`);
    // A null is an empty, unquoted cell.
    expect(rawLine(content, NULLS.id!)).toBe(
      `${NULLS.id},acme,SMS,outbound,ACME,+447700900123,2026-03-11T08:00:00+00:00,,,0,0,submitted,,,,GBP,0.0400,0.0400,,,`,
    );
  });

  it('prefixes free text that could start a formula with an apostrophe and leaves E.164 numbers verbatim', async () => {
    const { content } = await report(acme, { product: 'SMS', ...MARCH, fields: ['id', 'from', 'to', 'client_ref', 'message_body'] });
    const byId = new Map(rowObjects(content).map((row) => [row.id, row]));
    const cells = FORMULAS.map((record) => byId.get(record.id!));
    expect(cells.map((row) => row?.client_ref)).toEqual(["'=1+2", "'+1 555 0100", "'-42+1", "'@SUM(A1:A9)", "'\tTAB", "'\rCR", '1=1', 'e164']);
    expect(cells.map((row) => row?.message_body)).toEqual([
      `'=HYPERLINK("http://example.com","click")`,
      "'+ plus first",
      "'-minus first",
      "'@at first",
      "'\ttab first",
      "'\rcarriage return first",
      "'=already escaped",
      'Your code is 123456',
    ]);
    expect(cells[7]).toMatchObject({ from: '+12025550100', to: '+447700900999' });
    expect(rawLine(content, FORMULAS[7]!.id!)).toBe(`${FORMULAS[7]!.id},+12025550100,+447700900999,e164,Your code is 123456`);
    expect(rawLine(content, FORMULAS[0]!.id!)).toBe(`${FORMULAS[0]!.id},ACME,+447700900123,'=1+2,"'=HYPERLINK(""http://example.com"",""click"")"`);
    expectRows(content, ACME_SMS);
  });

  it('escapes from and to when they are not plain numbers, even if such a value reached the store', async () => {
    // The importer refuses such addresses; the export must still not trust the table. Inserted behind its back.
    const rows = [
      ['00000000-0000-4000-8000-0000000000b1', '=cmd|calc', '+447700900123'],
      ['00000000-0000-4000-8000-0000000000b2', '+44 20 7946 0000', '-1 555'],
      ['00000000-0000-4000-8000-0000000000b3', '@home', '\tTAB'],
      ['00000000-0000-4000-8000-0000000000b4', '+4420794600', '447700900123'],
    ];
    for (const [id, from, to] of rows) {
      await cluster.services.db.pool.query(
        `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, duration, billsec, status, currency, price, total_price)
         VALUES ($1, 'raw', 'SMS', 'outbound', $2, $3, '2026-03-20T10:00:00Z', 0, 0, 'delivered', 'GBP', 0.01, 0.01)`,
        [id, from, to],
      );
    }
    const { content } = await report(raw, { product: 'SMS', ...MARCH, fields: ['id', 'from', 'to'] });
    expect(content.rows).toEqual([
      ['00000000-0000-4000-8000-0000000000b1', "'=cmd|calc", '+447700900123'],
      ['00000000-0000-4000-8000-0000000000b2', "'+44 20 7946 0000", "'-1 555"],
      ['00000000-0000-4000-8000-0000000000b3', "'@home", "'\tTAB"],
      ['00000000-0000-4000-8000-0000000000b4', '+4420794600', '447700900123'],
    ]);
  });

  it('writes decimals exactly as stored and sums them exactly in the summary', async () => {
    const { report: done, content } = await report(acme, { product: 'SMS', ...MARCH, fields: ['id', 'currency', 'price', 'total_price'] });
    const byId = new Map(rowObjects(content).map((row) => [row.id, row]));
    expect(DECIMALS.map((record) => [byId.get(record.id!)?.price, byId.get(record.id!)?.total_price])).toEqual([
      ['0.0125', '0.0125'],
      ['-0.5', '-0.5'],
      ['0.00000001', '999999999999.99999999'],
      ['12345678.12345678', '0.10000000'],
      ['0', '100'],
      ['0.1', '0.2'],
    ]);
    expect(byId.get(NULLS.id!)).toMatchObject({ price: '0.0400', total_price: '0.0400' });
    expectRows(content, ACME_SMS);

    const summary = done.summary as { total_price: Record<string, string> } & Record<string, unknown>;
    const expected = expectedSummary(ACME_SMS);
    for (const value of Object.values(summary.total_price)) expect(value).toMatch(/^-?\d+(\.\d+)?$/);
    expect({ ...summary, total_price: Object.fromEntries(Object.entries(summary.total_price).map(([c, v]) => [c, normalDecimal(v)])) }).toEqual(expected);
    // The sums no float could hold exactly.
    expect(expected.total_price.EUR).toBe('1000000000000.09999999');
  });

  it('orders rows by start_time, then id, across offsets and microseconds', async () => {
    const { content } = await report(acme, { product: 'SMS', date_start: '2026-03-12T00:00:00Z', date_end: '2026-03-13T00:00:00Z', fields: ['id', 'start_time'] });
    expect(content.rows.map((row) => row[0])).toEqual([
      '00000000-0000-4000-8000-0000000000ef',
      '00000000-0000-4000-8000-0000000000f1',
      '00000000-0000-4000-8000-0000000000f3',
      '00000000-0000-4000-8000-0000000000f4',
      'ffffffff-0000-4000-8000-0000000000f2',
      '00000000-0000-4000-8000-0000000000f0',
    ]);
    expectRows(content, ORDER);
  });

  it('stores gzip as {PRODUCT}_{request_id}.csv.gz: application/gzip, a Content-Disposition filename, no Content-Encoding', async () => {
    const { report: done, file } = await report(acme, { product: 'SMS', ...MARCH });
    const name = `SMS_${done.request_id}.csv.gz`;
    expect(done.file).toEqual({ name, size_bytes: file.length, content_type: 'application/gzip' });
    // gzip magic bytes: the object is the .gz itself, not a transfer encoding of the CSV.
    expect([...file.subarray(0, 2)]).toEqual([0x1f, 0x8b]);

    const { client, bucket } = cluster.services.s3;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((object) => object.Key!).filter((key) => key.includes(done.request_id) && !key.endsWith('/manifest.json'));
    expect(keys).toHaveLength(1);
    expect(keys[0]!.endsWith(`/${name}`)).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0]! }));
    expect(head.ContentType).toBe('application/gzip');
    expect(head.ContentEncoding).toBeUndefined();
    expect(head.ContentDisposition).toMatch(new RegExp(`^attachment; filename="${name}"`));
    expect(head.ContentLength).toBe(file.length);

    // The presigned link serves it the same way.
    const response = await fetch(done._links.download_report!.href);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/gzip');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(response.headers.get('content-disposition')).toContain(`filename="${name}"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(file)).toBe(true);
  });

  it('stores zip as {PRODUCT}_{request_id}.zip holding one report_{PRODUCT}_{account_id}_{yyyymmdd}.csv with the same CSV', async () => {
    const body = { product: 'SMS', date_start: '2026-03-05T00:00:00Z', date_end: '2026-04-01T00:00:00Z', include_message: true };
    const zipped = await report(acme, { ...body, compression: 'zip' });
    const gzipped = await report(acme, { ...body, compression: 'gzip' });
    const name = `SMS_${zipped.report.request_id}.zip`;
    expect(zipped.report.file).toEqual({ name, size_bytes: zipped.file.length, content_type: 'application/zip' });
    expect(zipped.content.entries).toEqual(['report_SMS_acme_20260305.csv']);
    expect(zipped.content.csv.equals(gzipped.content.csv)).toBe(true);
    expectRows(zipped.content, ACME_SMS);
    expect(zipped.report.summary).toEqual(gzipped.report.summary);

    const { client, bucket } = cluster.services.s3;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const key = (listed.Contents ?? []).map((object) => object.Key!).find((k) => k.includes(zipped.report.request_id));
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key! }));
    expect(head.ContentType).toBe('application/zip');
    expect(head.ContentEncoding).toBeUndefined();
    expect(head.ContentDisposition).toMatch(new RegExp(`^attachment; filename="${name}"`));
  });

  it('dates the zip entry by the day date_start names in the report time zone', async () => {
    // Midnight of 5 March in Paris is 4 March 23:00 UTC: the caller asked for a report from 5 March, Paris time.
    const { content } = await report(acme, {
      product: 'SMS',
      date_start: '2026-03-05T00:00:00+01:00',
      date_end: '2026-04-01T00:00:00+02:00',
      timezone: 'Europe/Paris',
      compression: 'zip',
    });
    expect(content.entries).toEqual(['report_SMS_acme_20260305.csv']);
  });

  it.each(['gzip', 'zip'])('treats an empty result as a SUCCESS with a header-only file (%s)', async (compression) => {
    const { report: done, content } = await report(acme, {
      product: 'VOICE-CALL',
      date_start: '2026-03-01T00:00:00Z',
      date_end: '2026-03-02T00:00:00Z',
      fields: ['id', 'start_time', 'client_ref'],
      compression,
    });
    expect(content.csv.toString('utf8')).toBe('id,start_time,client_ref\n');
    expect(content.rows).toEqual([]);
    expect(done.items_count).toBe(0);
    expect(done.summary).toEqual({ records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} });
  });
});
