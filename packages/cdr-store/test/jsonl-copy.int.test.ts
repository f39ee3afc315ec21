/**
 * JSON Lines as PostgreSQL writes it: COPY in CSV mode of one column, with a quote and a delimiter byte that JSON
 * text never holds raw, writes each row_to_json text verbatim, one per line, with none of text mode's backslash
 * doubling. Checked on every awkward text a column can hold, read back by Python's json module and compared with the
 * values as stored; rows, order and timestamps as the CSV of the same read has them.
 */
import { importCdrRecords, PostgresCdrSource, type ReportRead, type TimeRange } from '@cdr-reports/cdr-store';
import type { ReportRequest } from '@cdr-reports/domain';
import { cdrFactory, createTestDatabase, jsonObjects, parseCsv, parseJsonLines, reportRequest, type TestDatabase } from '@cdr-reports/testing';

// Every column, in the table's order: the file's contract.
const ALL_COLUMNS = [
  'id', 'account_id', 'product', 'direction', 'from', 'to', 'start_time', 'answer_time', 'end_time', 'duration', 'billsec',
  'status', 'hangup_cause', 'country', 'network', 'currency', 'price', 'total_price', 'parts', 'client_ref', 'message_body',
];
const MARCH: TimeRange = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z') };

// Texts that break a naive writer or reader of JSON, of COPY's text format, or of CSV. PostgreSQL text cannot hold NUL.
const AWKWARD = [
  '',
  'comma, "double quotes", \'single\'',
  'back\\slash, two \\\\, and \\n that is no newline',
  'ends with a backslash\\',
  '\\.',
  '\\N',
  'line one\nline two\r\nline three\rend',
  '\ttab first\tand inside',
  'control \x01 \x02 \x08 \x0c \x1b \x1f and DEL \x7f',
  '🎉 emoji 🎂 Grüße — 您的验证码 — Ваш код — مرحبا',
  'line separator \u2028 paragraph separator \u2029 next line \u0085',
  '=HYPERLINK("http://example.com","click")',
  '"',
  '{"a json": "text"}\n',
  // Larger than a COPY chunk: a record that arrives in several pieces.
  `${'long "quoted" \\ text, '.repeat(4_000)}end`,
];

describe('JSON Lines written by PostgreSQL (COPY in CSV mode)', () => {
  let db: TestDatabase;
  let source: PostgresCdrSource;
  const cdr = cdrFactory({ idGroup: '7201', startTime: (n) => new Date(Date.UTC(2026, 2, 10, 9) + n * 1_000_123).toISOString(), endAfterMs: 4_567 });
  // Each awkward text in client_ref, and in message_body the next one along, so that no two lines are alike.
  const records = AWKWARD.map((text, i) => cdr({ client_ref: text, message_body: AWKWARD[(i + 1) % AWKWARD.length]!, parts: String(i + 1) }));
  const NULLS = cdr({ end_time: null, country: null, network: null, parts: null, client_ref: null, message_body: null, status: 'submitted' });

  beforeAll(async () => {
    db = await createTestDatabase();
    source = new PostgresCdrSource(db.pool);
    await importCdrRecords(db.pool, () => [...records, NULLS]);
    // from and to that the importer refuses, written behind its back: the export must take what the table holds.
    await db.pool.query(
      `INSERT INTO cdrs (id, account_id, product, direction, "from", "to", start_time, duration, billsec, status, currency, price, total_price)
       VALUES ('00000000-0000-4000-7202-000000000001', 'acme', 'SMS', 'outbound', '=cmd|calc', E'"\\\\\\n', '2026-03-20T10:00:00.000001Z', 0, 0, 'delivered', 'GBP', 0.01, 0.01)`,
    );
  });
  afterAll(() => db?.drop());

  /** One read of March, segment per day as the exporter reads it; the text and the rows counted. */
  async function readAll(request: ReportRequest, segments = days()): Promise<{ text: Buffer; rows: number }> {
    const read: ReportRead = await source.openReportRead({ request, accountIds: ['acme'] }, MARCH);
    const chunks: Buffer[] = [];
    let rows = 0;
    try {
      for (const [index, segment] of segments.entries()) {
        const part = read.segmentCsv(segment, index === 0);
        for await (const chunk of part) chunks.push(chunk);
        rows += part.rows;
      }
    } finally {
      await read.close();
    }
    return { text: Buffer.concat(chunks), rows };
  }

  function days(): TimeRange[] {
    return Array.from({ length: 31 }, (_, i) => ({ from: new Date(Date.UTC(2026, 2, 1 + i)), to: new Date(Date.UTC(2026, 2, 2 + i)) }));
  }

  it('writes each row as one line that Python reads back as exactly the stored values', async () => {
    const jsonl = reportRequest({ fields: ALL_COLUMNS, include_message: true, format: 'jsonl' });
    const { text, rows } = await readAll(jsonl);
    const stored = (
      await db.pool.query<Record<string, string | null>>(
        `SELECT ${ALL_COLUMNS.map((name) => `"${name}"::text AS "${name}"`).join(', ')} FROM cdrs ORDER BY start_time, id`,
      )
    ).rows;
    expect(rows).toBe(AWKWARD.length + 2);
    // As many newlines as rows: none inside a value, and no quote byte or doubled backslash around one.
    expect(text.toString('utf8').split('\n')).toHaveLength(rows + 1);
    expect(text.includes(0x01)).toBe(false);
    const lines = await parseJsonLines(text);
    expect(lines).toHaveLength(rows);
    for (const [i, line] of lines.entries()) {
      // Every field, in the requested order.
      expect(line.map((cell) => cell.name)).toEqual(ALL_COLUMNS);
      const row = stored[i]!;
      for (const cell of line) {
        const value = row[cell.name] ?? null;
        if (value === null) expect(cell).toEqual({ name: cell.name, type: 'null', value: null });
        else if (['duration', 'billsec', 'parts'].includes(cell.name)) expect(cell).toEqual({ name: cell.name, type: 'int', value });
        else if (!['start_time', 'answer_time', 'end_time'].includes(cell.name)) expect(cell).toEqual({ name: cell.name, type: 'str', value });
      }
    }
    const byRef = new Map(jsonObjects(lines).map((object) => [object.client_ref, object]));
    for (const [i, text] of AWKWARD.entries()) expect(byRef.get(text)).toMatchObject({ client_ref: text, message_body: AWKWARD[(i + 1) % AWKWARD.length], parts: i + 1 });
    expect(jsonObjects(lines).find((object) => object.id === '00000000-0000-4000-7202-000000000001')).toMatchObject({ from: '=cmd|calc', to: '"\\\n', price: '0.01' });
  });

  it('has the rows, order and timestamps of the CSV of the same read', async () => {
    const fields = ['id', 'start_time', 'end_time', 'answer_time', 'total_price'];
    for (const timezone of ['UTC', 'Asia/Kolkata']) {
      const csv = await readAll(reportRequest({ fields, timezone }));
      const jsonl = await readAll(reportRequest({ fields, timezone, format: 'jsonl' }));
      const [header, ...csvRows] = await parseCsv(csv.text);
      expect(header).toEqual(fields);
      expect(jsonl.rows).toBe(csv.rows);
      const objects = jsonObjects(await parseJsonLines(jsonl.text));
      expect(objects.map((object) => fields.map((name) => object[name] ?? ''))).toEqual(csvRows);
      expect(String(objects[0]!.start_time)).toMatch(timezone === 'UTC' ? /\+00:00$/ : /\+05:30$/);
    }
  });

  it('writes usage groups as objects, dimensions then metrics: counts as numbers, money as exact strings', async () => {
    const usage = reportRequest({ type: 'usage', dimensions: ['day', 'currency', 'country'], metrics: ['count', 'total_price', 'parts'], fields: ['day', 'currency', 'country', 'count', 'total_price', 'parts'], format: 'jsonl' });
    const { text, rows } = await readAll(usage, [MARCH]);
    const lines = await parseJsonLines(text);
    expect(lines).toHaveLength(rows);
    expect(lines.map((line) => line.map((cell) => `${cell.name}:${cell.type}`))).toContainEqual(['day:str', 'currency:str', 'country:null', 'count:int', 'total_price:str', 'parts:int']);
    const csv = await readAll({ ...usage, format: 'csv' }, [MARCH]);
    const [, ...csvRows] = await parseCsv(csv.text);
    expect(jsonObjects(lines).map((object) => usage.fields.map((name) => String(object[name] ?? '')))).toEqual(csvRows);
  });

  it('writes one group for a usage report without dimensions, even over no rows', async () => {
    const usage = reportRequest({ type: 'usage', dimensions: [], metrics: ['count', 'total_price'], fields: ['count', 'total_price'], format: 'jsonl', product: 'VOICE-CALL' });
    const { text, rows } = await readAll(usage, [MARCH]);
    expect(rows).toBe(1);
    expect(text.toString('utf8')).toBe('{"count":0,"total_price":"0"}\n');
  });

  it('writes nothing at all for a read without rows: no header, no line', async () => {
    const { text, rows } = await readAll(reportRequest({ product: 'VOICE-CALL', format: 'jsonl' }));
    expect({ text: text.toString('utf8'), rows }).toEqual({ text: '', rows: 0 });
  });
});
