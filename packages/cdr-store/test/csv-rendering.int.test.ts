/**
 * CsvRenderer against PostgreSQL itself: the bytes of a COPY of raw values, rendered, must equal the COPY of the
 * SQL the report used before (to_char for RFC 3339, the formula escaping in SQL), for instants of every
 * precision in zones with every kind of offset (half and quarter hours, negative, DST, local mean time), and for
 * text that does and does not start a formula.
 */
import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import { CsvRenderer, type FieldRendering } from '../src/source/csv-rendering';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

const ZONES = ['UTC', 'Europe/Paris', 'America/Los_Angeles', 'America/St_Johns', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'Africa/Monrovia'];

/** The SQL the report rendered timestamps with before csv-rendering.ts. */
const TO_CHAR = `CASE WHEN date_trunc('second', t) = t THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
  WHEN date_trunc('milliseconds', t) = t THEN to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM')
  ELSE to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') END`;
const FORMULA_START = `left(v, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r')`;
const ESCAPED_TEXT = `CASE WHEN ${FORMULA_START} THEN '''' || v ELSE v END`;
const ESCAPED_ADDRESS = `CASE WHEN ${FORMULA_START} AND NOT v ~ '^\\+?[0-9]+$' THEN '''' || v ELSE v END`;

/** A seeded sequence (the same instants on every run). */
function* seeded(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    yield state / 2 ** 31;
  }
}

/** Instants as UTC text to the microsecond: whole seconds, milliseconds, microseconds, trailing zeros, DST edges. */
function instants(): string[] {
  const random = seeded(7);
  const next = () => random.next().value as number;
  const out = [
    '2026-03-29 00:59:59.999999+00', '2026-03-29 01:00:00+00', '2026-10-25 00:59:59.5+00', '2026-10-25 01:00:00.000001+00',
    '2026-03-08 09:59:59.99+00', '2026-03-08 10:00:00.1+00', '2026-11-01 08:59:59+00', '2026-11-01 09:00:00.12+00',
    '1850-06-01 12:00:00.123+00', '1900-01-01 00:00:00+00', '1971-12-31 23:59:59.999+00', '2099-12-31 23:59:59.999999+00',
  ];
  for (let i = 0; i < 600; i++) {
    const ms = Math.floor(Date.UTC(1905, 0, 1) + next() * (Date.UTC(2095, 0, 1) - Date.UTC(1905, 0, 1)));
    const base = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const micros = Math.floor(next() * 1_000_000);
    const precision = i % 6;
    const fraction = [
      '',
      `.${String(Math.floor(micros / 1000)).padStart(3, '0')}`,
      `.${String(micros).padStart(6, '0')}`,
      `.${String(Math.floor(micros / 100_000))}00`,
      `.${String(Math.floor(micros / 10)).padStart(5, '0')}0`,
      '.000001',
    ][precision];
    out.push(`${base}${fraction}+00`);
  }
  return out;
}

const TEXTS = [
  '=HYPERLINK("http://evil")', '+cmd|/C calc', '-1+2', '@SUM(A1)', '\ttab first', '\rcarriage', 'a "quoted", comma', 'two\nlines\r\nthree',
  '😀 émoji', '', 'plain', '+442071838750', '447700900123', '+', '+44 20 7183', '-4420', '=1+1', "'already", ' =space first', '+4420x',
];

describe('CsvRenderer against PostgreSQL', () => {
  let db: TestDatabase;
  let client: PoolClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = await db.pool.connect();
    await client.query(`SET DateStyle = 'ISO, YMD'`);
  });

  afterAll(async () => {
    client.release();
    await db.drop();
  });

  /** The bytes of a COPY ... TO STDOUT WITH CSV of `select`. */
  async function copy(select: string): Promise<Buffer> {
    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv)`)) as Readable;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function render(fields: FieldRendering[], bytes: Buffer): string {
    const renderer = new CsvRenderer(fields, false);
    // Cut into small chunks: rows span them.
    const out: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 997) out.push(renderer.push(bytes.subarray(at, at + 997)));
    renderer.end();
    return Buffer.concat(out).toString();
  }

  it('writes every instant exactly as to_char did, in zones with every kind of offset', async () => {
    const values = `unnest(${client.escapeLiteral(`{${instants().map((text) => `"${text}"`).join(',')}}`)}::timestamptz[]) WITH ORDINALITY AS x(t, n)`;
    for (const zone of ZONES) {
      await client.query(`SET TimeZone = ${client.escapeLiteral(zone)}`);
      const raw = await copy(`SELECT n, t, t FROM ${values} ORDER BY n`);
      const expected = await copy(`SELECT n, ${TO_CHAR}, ${TO_CHAR} FROM ${values} ORDER BY n`);
      expect({ zone, csv: render(['plain', 'timestamp', 'timestamp'], raw) }).toEqual({ zone, csv: expected.toString() });
    }
  });

  it('escapes text and addresses exactly as the SQL did, NULL kept apart from the empty string', async () => {
    const values = `unnest(${client.escapeLiteral(`{${[...TEXTS.map((text) => `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`), 'NULL'].join(',')}}`)}::text[]) WITH ORDINALITY AS x(v, n)`;
    const raw = await copy(`SELECT v, n, v FROM ${values} ORDER BY n`);
    const expected = await copy(`SELECT ${ESCAPED_ADDRESS}, n, ${ESCAPED_TEXT} FROM ${values} ORDER BY n`);
    expect(render(['address', 'plain', 'free-text'], raw)).toBe(expected.toString());
    // The cases that matter are there: some escaped, some not, one NULL.
    expect(expected.toString()).toContain(`"'=HYPERLINK(""http://evil"")",1,"'=HYPERLINK(""http://evil"")"`);
    expect(expected.toString()).toContain('+442071838750,12,\'+442071838750');
    expect(expected.toString()).toMatch(/^,21,$/m);
  });
});
