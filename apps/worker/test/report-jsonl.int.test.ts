/**
 * What a finished JSON Lines report (`format: "jsonl"`) holds: one object per record with the requested fields in
 * order, integers as numbers, exact decimals as strings, timestamps as the CSV writes them, null as null, text exactly
 * as stored (no spreadsheet escaping). Every file is read back with gunzip/unzip and Python's json module, and compared
 * cell by cell with the CSV of the same request and with the records loaded. Usage reports, zip, split files, the
 * empty report, the object's name and headers, and the manifest too.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { CdrRecord } from '@cdr-reports/domain';
import {
  cdrFactory,
  inFileOrder,
  micros,
  readJsonLinesFile,
  readReportFile,
  rowObjects,
  useReportCluster,
  type JsonCell,
  type JsonLinesContent,
  type ReportFileContent,
  type ReportResource,
} from '@cdr-reports/testing';

// Written out here rather than taken from the catalog: the file's members are a public contract.
const ALL_COLUMNS = [
  'id', 'account_id', 'product', 'direction', 'from', 'to', 'start_time', 'answer_time', 'end_time', 'duration', 'billsec',
  'status', 'hangup_cause', 'country', 'network', 'currency', 'price', 'total_price', 'parts', 'client_ref', 'message_body',
];
const TIMESTAMP_COLUMNS = new Set(['start_time', 'answer_time', 'end_time']);
const INTEGER_COLUMNS = new Set(['duration', 'billsec', 'parts']);
const MARCH = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };

const cdr = cdrFactory({ idGroup: '8301', startTime: (n) => `2026-03-10T09:${String(n % 60).padStart(2, '0')}:00Z`, endAfterMs: 4500 });

const AWKWARD = [
  cdr({ client_ref: 'a,b', message_body: `comma, "double quotes", 'single'` }),
  cdr({ client_ref: 'say "hi', message_body: 'line one\nline two\r\nline three\rend' }),
  cdr({ client_ref: '🎉 emoji 🎂', message_body: 'Grüße — 您的验证码 — Ваш код — مرحبا 🚕' }),
  cdr({ client_ref: "O'Brien \\ path \\", message_body: '\ttabs\tinside\t' }),
  cdr({ client_ref: '"', message_body: '""' }),
  cdr({ client_ref: '\\.', message_body: '\\N' }),
  cdr({ client_ref: 'control \x01\x02\x1f\x7f', message_body: 'separators \u2028 \u2029' }),
];
// Formula-looking text: the CSV prefixes it with an apostrophe, JSON Lines writes it as stored.
const FORMULAS = [
  cdr({ client_ref: '=1+2', message_body: '=HYPERLINK("http://example.com","click")' }),
  cdr({ client_ref: '+1 555 0100', message_body: '-minus first' }),
  cdr({ client_ref: '@SUM(A1:A9)', message_body: '\ttab first' }),
  cdr({ client_ref: '\rCR', message_body: "'=already escaped" }),
  cdr({ from: '+12025550100', to: '+447700900999', client_ref: 'e164' }),
];
const DECIMALS = [
  cdr({ currency: 'EUR', price: '0.00000001', total_price: '999999999999.99999999' }),
  cdr({ currency: 'EUR', price: '12345678.12345678', total_price: '0.10000000' }),
  cdr({ currency: 'USD', price: '-0.5', total_price: '100' }),
];
const NULLS = cdr({
  start_time: '2026-03-11T08:00:00.000001Z',
  end_time: null,
  status: 'submitted',
  country: null,
  network: null,
  parts: null,
  client_ref: null,
  message_body: null,
});
// Same instant, ids out of order; an instant given with an offset.
const ORDER = [
  cdr({ id: '00000000-0000-4000-8302-0000000000f3', start_time: '2026-03-12T12:00:00Z' }),
  cdr({ id: 'FFFFFFFF-0000-4000-8302-0000000000f2', start_time: '2026-03-12T12:00:00Z' }),
  cdr({ id: '00000000-0000-4000-8302-0000000000f1', start_time: '2026-03-12T13:00:00.5+01:00' }),
];
const ACME_SMS = [...AWKWARD, ...FORMULAS, ...DECIMALS, NULLS, ...ORDER];
const voice = cdrFactory({ idGroup: '8303', columns: { product: 'VOICE-CALL', parts: null, message_body: null, hangup_cause: 'NORMAL_CLEARING' } });
const ACME_VOICE = [
  voice({ start_time: '2026-03-10T10:00:00Z', answer_time: '2026-03-10T10:00:05.25Z', end_time: '2026-03-10T10:01:10Z', status: 'answered', duration: '70', billsec: '65', total_price: '0.0125' }),
  voice({ start_time: '2026-03-11T10:00:00.123456Z', answer_time: '2026-03-11T10:00:02Z', end_time: '2026-03-11T10:00:10Z', status: 'answered', duration: '10', billsec: '8', total_price: '0.0050' }),
  voice({ start_time: '2026-03-12T10:00:00Z', end_time: '2026-03-12T10:00:00Z', status: 'busy', duration: '0', billsec: '0', hangup_cause: 'USER_BUSY', total_price: '0' }),
];

const FORMULA_START = /^[=+\-@\t\r]/;
/** The CSV cell of a value the JSON holds as it is: free text that could start a formula gets a leading apostrophe. */
function csvCellOf(column: string, value: string | null): string {
  if (value === null) return '';
  if (column === 'client_ref' || column === 'message_body') return FORMULA_START.test(value) ? `'${value}` : value;
  if (column === 'from' || column === 'to') return FORMULA_START.test(value) && !/^\+?\d+$/.test(value) ? `'${value}` : value;
  return value;
}

/** The JSON value a record's column must be written as. */
function expectedJson(column: string, value: string | null | undefined): { type: JsonCell['type']; value: string | null } {
  if (value === null || value === undefined) return { type: 'null', value: null };
  if (INTEGER_COLUMNS.has(column)) return { type: 'int', value };
  return { type: 'str', value: column === 'id' ? value.toLowerCase() : value };
}

/**
 * Line by line and cell by cell: the JSON Lines against the records (in file order) and against the CSV of the same
 * request. Each JSON value is what the record holds, typed; the CSV cell is that value as the CSV writes it (its
 * apostrophe before a formula, an empty cell for null); timestamps are the same text in both, the same instant as the
 * record's, in the expected offset.
 */
function expectSameContent(jsonl: JsonLinesContent, csv: ReportFileContent, records: CdrRecord[], offset = '+00:00'): void {
  const expected = inFileOrder(records);
  const rows = rowObjects(csv);
  expect(jsonl.lines).toHaveLength(expected.length);
  expect(rows).toHaveLength(expected.length);
  jsonl.lines.forEach((line, i) => {
    const record = expected[i]!;
    expect(line.map((cell) => cell.name)).toEqual(csv.header);
    for (const cell of line) {
      const where = { id: record.id, column: cell.name };
      const value = record[cell.name] ?? null;
      const csvCell = rows[i]![cell.name]!;
      if (TIMESTAMP_COLUMNS.has(cell.name) && value !== null) {
        expect({ ...where, type: cell.type, text: cell.value }).toEqual({ ...where, type: 'str', text: csvCell });
        expect({ ...where, offset: String(cell.value).slice(-6), micros: micros(String(cell.value)) }).toEqual({ ...where, offset, micros: micros(value) });
      } else {
        expect({ ...where, type: cell.type, value: cell.value }).toEqual({ ...where, ...expectedJson(cell.name, value) });
        expect({ ...where, csvCell }).toEqual({ ...where, csvCell: csvCellOf(cell.name, cell.value) });
      }
    }
  });
}

describe('worker: JSON Lines report files', () => {
  const cluster = useReportCluster();
  let acme: string;

  beforeAll(async () => {
    acme = await cluster.account('acme');
    await cluster.account('other');
    await cluster.load([...ACME_SMS, ...ACME_VOICE, cdr({ account_id: 'other' }), cdr({ start_time: '2026-04-01T00:00:00Z' })]);
  });

  async function succeeded(body: Record<string, unknown>): Promise<ReportResource> {
    const created = await cluster.createReport(acme, body);
    const done = await cluster.waitForStatus(acme, created.request_id, ['SUCCESS', 'FAILED'], 30_000);
    expect({ status: done.request_status, error: done.error ?? null }).toEqual({ status: 'SUCCESS', error: null });
    return done;
  }

  async function finished(body: Record<string, unknown>): Promise<{ report: ReportResource; file: Buffer }> {
    const done = await succeeded(body);
    return { report: done, file: await cluster.download(done) };
  }

  /** The same request as CSV and as JSON Lines, each read back with the standard tools. */
  async function both(body: Record<string, unknown>) {
    const compression = (body.compression as 'gzip' | 'zip' | undefined) ?? 'gzip';
    const csv = await finished({ ...body, format: 'csv' });
    const jsonl = await finished({ ...body, format: 'jsonl' });
    return {
      csv: { ...csv, content: await readReportFile(csv.file, compression) },
      jsonl: { ...jsonl, content: await readJsonLinesFile(jsonl.file, compression) },
    };
  }

  it('writes every column of every record as the CSV does, typed, unescaped, null as null', async () => {
    const { csv, jsonl } = await both({ product: 'SMS', ...MARCH, include_message: true });
    expect(csv.content.header).toEqual(ALL_COLUMNS);
    expect(jsonl.report.items_count).toBe(ACME_SMS.length);
    expect(jsonl.report.summary).toEqual(csv.report.summary);
    expectSameContent(jsonl.content, csv.content, ACME_SMS);

    const text = jsonl.content.text.toString('utf8');
    // One line per record and nothing else: no header, a final newline, no raw control character.
    expect(text.split('\n')).toHaveLength(ACME_SMS.length + 1);
    expect(text.startsWith('{"id":"')).toBe(true);
    expect([...text].filter((char) => char !== '\n' && char.charCodeAt(0) < 0x20)).toEqual([]);
    // Byte for byte, the null record: compact, members in the requested order.
    const nullLine = text.split('\n').find((line) => line.includes(NULLS.id!));
    expect(nullLine).toBe(
      `{"id":"${NULLS.id}","account_id":"acme","product":"SMS","direction":"outbound","from":"ACME","to":"+447700900123",` +
        `"start_time":"2026-03-11T08:00:00.000001+00:00","answer_time":null,"end_time":null,"duration":0,"billsec":0,"status":"submitted",` +
        `"hangup_cause":null,"country":null,"network":null,"currency":"GBP","price":"0.0360","total_price":"0.0360","parts":null,"client_ref":null,"message_body":null}`,
    );
  });

  it('writes formula-looking text as stored, where the CSV adds its apostrophe', async () => {
    const fields = ['id', 'from', 'to', 'client_ref', 'message_body'];
    const { csv, jsonl } = await both({ product: 'SMS', ...MARCH, fields });
    expectSameContent(jsonl.content, csv.content, ACME_SMS);
    const byId = new Map(jsonl.content.lines.map((line) => [line[0]!.value, Object.fromEntries(line.map((cell) => [cell.name, cell.value]))]));
    expect(FORMULAS.map((record) => byId.get(record.id!)?.client_ref)).toEqual(['=1+2', '+1 555 0100', '@SUM(A1:A9)', '\rCR', 'e164']);
    expect(FORMULAS.map((record) => byId.get(record.id!)?.message_body)).toEqual(['=HYPERLINK("http://example.com","click")', '-minus first', '\ttab first', "'=already escaped", 'Your code is 123456']);
    expect(rowObjects(csv.content).find((row) => row.id === FORMULAS[0]!.id)?.client_ref).toBe("'=1+2");
  });

  it('writes timestamps in the requested time zone, the same text as the CSV', async () => {
    const { csv, jsonl } = await both({ product: 'VOICE-CALL', ...MARCH, fields: ['id', 'start_time', 'answer_time', 'end_time', 'duration', 'billsec'], timezone: 'America/St_Johns' });
    expectSameContent(jsonl.content, csv.content, ACME_VOICE, '-02:30');
  });

  it('stores gzip as {PRODUCT}_{request_id}.jsonl.gz: application/gzip, a Content-Disposition filename, no Content-Encoding', async () => {
    const { report: done, file } = await finished({ product: 'SMS', ...MARCH, fields: ['id', 'start_time', 'duration', 'total_price'], format: 'jsonl' });
    const name = `SMS_${done.request_id}.jsonl.gz`;
    expect(done.file).toEqual({ name, size_bytes: file.length, content_type: 'application/gzip' });
    expect([...file.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const keys = await cluster.objectKeys(`reports/acme/${done.request_id}/`);
    expect(keys).toEqual([`reports/acme/${done.request_id}/${name}`, `reports/acme/${done.request_id}/manifest.json`]);
    const { client, bucket } = cluster.services.s3;
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0]! }));
    expect({ type: head.ContentType, encoding: head.ContentEncoding }).toEqual({ type: 'application/gzip', encoding: undefined });
    expect(head.ContentDisposition).toMatch(new RegExp(`^attachment; filename="${name}"`));
    const response = await fetch(done._links.download_report!.href);
    expect(response.headers.get('content-disposition')).toContain(`filename="${name}"`);
    expect(Buffer.from(await response.arrayBuffer()).equals(file)).toBe(true);

    // The manifest says what the file is.
    const manifest = await cluster.request('GET', `/v1/reports/${done.request_id}/manifest`, acme);
    expect(manifest.status).toBe(200);
    expect(manifest.body).toMatchObject({
      format: 'jsonl',
      compression: 'gzip',
      request: { format: 'jsonl' },
      rows: done.items_count,
      files: [{ key: keys[0], rows: done.items_count, size_bytes: file.length }],
      columns: [
        { name: 'id', type: 'string' },
        { name: 'start_time', type: 'timestamp' },
        { name: 'duration', type: 'integer' },
        { name: 'total_price', type: 'decimal' },
      ],
    });
  });

  it('stores zip as {PRODUCT}_{request_id}.zip holding one report_{PRODUCT}_{account_id}_{yyyymmdd}.jsonl', async () => {
    const body = { product: 'SMS', date_start: '2026-03-05T00:00:00Z', date_end: '2026-04-01T00:00:00Z', include_message: true, format: 'jsonl' };
    const zipped = await finished({ ...body, compression: 'zip' });
    const gzipped = await finished(body);
    expect(zipped.report.file).toEqual({ name: `SMS_${zipped.report.request_id}.zip`, size_bytes: zipped.file.length, content_type: 'application/zip' });
    const content = await readJsonLinesFile(zipped.file, 'zip');
    expect(content.entries).toEqual(['report_SMS_acme_20260305.jsonl']);
    expect(content.text.equals((await readJsonLinesFile(gzipped.file, 'gzip')).text)).toBe(true);
    expect(content.lines).toHaveLength(ACME_SMS.length);
  });

  it.each(['gzip', 'zip'])('treats an empty result as a SUCCESS with an empty file, no header (%s)', async (compression) => {
    const { report: done, file } = await finished({ product: 'MESSAGES', ...MARCH, fields: ['id', 'client_ref'], format: 'jsonl', compression });
    const content = await readJsonLinesFile(file, compression as 'gzip' | 'zip');
    expect({ text: content.text.toString(), lines: content.lines, items: done.items_count }).toEqual({ text: '', lines: [], items: 0 });
    expect(done.summary).toEqual({ records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} });
  });

  it('writes a usage report as one object per group, dimensions then metrics, as the usage CSV', async () => {
    const body = { type: 'usage', product: 'SMS', ...MARCH, dimensions: ['day', 'status', 'country'], metrics: ['count', 'total_price', 'parts'] };
    const { csv, jsonl } = await both(body);
    expect(jsonl.report.file!.name).toBe(`usage_SMS_${jsonl.report.request_id}.jsonl.gz`);
    // currency joins the dimensions with total_price.
    const fields = ['day', 'status', 'country', 'currency', 'count', 'total_price', 'parts'];
    expect(csv.content.header).toEqual(fields);
    expect(jsonl.content.lines.length).toBeGreaterThan(4);
    expect(jsonl.content.lines).toHaveLength(csv.content.rows.length);
    jsonl.content.lines.forEach((line, i) => {
      expect(line.map((cell) => cell.name)).toEqual(fields);
      const row = csv.content.rows[i]!;
      line.forEach((cell, column) => {
        const name = cell.name;
        const type = ['count', 'parts'].includes(name) ? 'int' : name === 'country' && row[column] === '' ? 'null' : 'str';
        expect({ name, type: cell.type, cell: cell.value ?? '' }).toEqual({ name, type, cell: row[column] });
      });
    });
    const counted = jsonl.content.lines.reduce((total, line) => total + Number(line.find((cell) => cell.name === 'count')!.value), 0);
    expect(counted).toBe(ACME_SMS.length);
    expect(jsonl.content.lines.some((line) => line.find((cell) => cell.name === 'country')!.type === 'null')).toBe(true);
  });

  it('writes answer_rate as an exact decimal string and call counts as numbers in a voice usage report', async () => {
    const { csv, jsonl } = await both({ type: 'usage', product: 'VOICE-CALL', ...MARCH, dimensions: [], metrics: ['count', 'duration', 'billsec', 'answered', 'answer_rate'] });
    expect(csv.content.rows).toEqual([['3', '80', '73', '2', '0.6667']]);
    expect(jsonl.content.text.toString()).toBe('{"count":3,"duration":80,"billsec":73,"answered":2,"answer_rate":"0.6667"}\n');
  });

  it('splits by max_file_rows into {PRODUCT}_{request_id}_part0000N.jsonl.gz, each valid alone, together the single file', async () => {
    const body = { product: 'SMS', ...MARCH, include_message: true, format: 'jsonl' };
    const done = await succeeded({ ...body, max_file_rows: 7 });
    const single = await finished(body);
    const files = done.files as Array<{ name: string; rows: number }>;
    expect(files.map((file) => [file.name, file.rows])).toEqual([1, 2, 3].map((n, i) => [`SMS_${done.request_id}_part0000${n}.jsonl.gz`, [7, 7, 5][i]]));
    const texts: Buffer[] = [];
    for (const n of [1, 2, 3]) {
      const response = await cluster.request('GET', `/v1/reports/${done.request_id}/files/${n}/download`, acme);
      const location = response.headers.location as string;
      const content = await readJsonLinesFile(Buffer.from(await (await fetch(location)).arrayBuffer()), 'gzip');
      expect(content.lines).toHaveLength(files[n - 1]!.rows);
      texts.push(content.text);
    }
    expect(Buffer.concat(texts).equals((await readJsonLinesFile(single.file, 'gzip')).text)).toBe(true);
    expect(await cluster.objectKeys(`reports/acme/${done.request_id}/`)).toEqual([
      ...files.map((file) => `reports/acme/${done.request_id}/${file.name}`),
      `reports/acme/${done.request_id}/manifest.json`,
    ]);
  });
});
