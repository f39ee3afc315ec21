import fc from 'fast-check';
import { ExportIntegrityError } from '@cdr-reports/domain';
import { TypedCsvParser, type TypedField } from '../src/parquet-typed-csv-parser';

/** A field as PostgreSQL's COPY ... CSV writes it: NULL unquoted and empty, '' and anything special quoted. */
function pgField(value: TypedField): string {
  if (value === null) return '';
  if (value === '' || /[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

const pgCsv = (records: TypedField[][]) => records.map((fields) => `${fields.map(pgField).join(',')}\n`).join('');

/** Parses `bytes` fed in the given pieces. */
function parse(columns: number, pieces: Buffer[]): TypedField[][] {
  const records: TypedField[][] = [];
  const parser = new TypedCsvParser(columns, (fields) => records.push(fields));
  for (const piece of pieces) parser.push(piece);
  parser.end();
  expect(parser.records).toBe(records.length);
  return records;
}

/** `bytes` cut at the given offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const sorted = [...new Set(offsets)].filter((at) => at > 0 && at < bytes.length).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of sorted) {
    pieces.push(bytes.subarray(from, at));
    from = at;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

describe('TypedCsvParser', () => {
  const AWKWARD: TypedField[][] = [
    ['1', null, '', 'plain'],
    ['2', '""', 'a "quoted" word', 'line one\nline two'],
    ['3', 'crlf\r\ninside', ',', '=SUM(A1:A9)'],
    ['4', '😀 emoji and accents: éàü', '"', '\r'],
    [null, null, null, null],
    ['', '', '', ''],
  ];

  it('tells NULL (unquoted empty) from the empty string ("") and keeps every other value verbatim', () => {
    const csv = Buffer.from(pgCsv(AWKWARD));
    expect(csv.toString()).toContain('1,,"",plain\n');
    expect(parse(4, [csv])).toEqual(AWKWARD);
  });

  it('reads the same records however the bytes are cut, even inside a UTF-8 character or a doubled quote', () => {
    const csv = Buffer.from(pgCsv(AWKWARD));
    for (let at = 1; at < csv.length; at++) expect(parse(4, cut(csv, [at]))).toEqual(AWKWARD);
    // One byte at a time.
    expect(parse(4, cut(csv, Array.from({ length: csv.length }, (_, i) => i)))).toEqual(AWKWARD);
  });

  it('reads a field longer than many chunks', () => {
    const long = `start ${'x"y\n'.repeat(200_000)} end`;
    const records: TypedField[][] = [['a', long], ['b', null]];
    const csv = Buffer.from(pgCsv(records));
    const pieces = cut(csv, Array.from({ length: Math.ceil(csv.length / 65_536) }, (_, i) => i * 65_536));
    expect(parse(2, pieces)).toEqual(records);
  });

  it('round-trips any records PostgreSQL could write, cut anywhere', () => {
    const field = fc.option(fc.string({ unit: fc.constantFrom('a', 'é', '😀', '"', ',', '\n', '\r', ' ', '=', '') }), { nil: null });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 3, maxLength: 3 }), { maxLength: 20 }), fc.array(fc.nat(400)), (records, offsets) => {
        const csv = Buffer.from(pgCsv(records));
        expect(parse(3, cut(csv, offsets))).toEqual(records);
      }),
      { numRuns: 300 },
    );
  });

  it('fails the export on a record of the wrong width, a stray quote, or bytes after the last line end', () => {
    expect(() => parse(3, [Buffer.from('a,b\n')])).toThrow(ExportIntegrityError);
    expect(() => parse(2, [Buffer.from('a,b"c\n')])).toThrow(ExportIntegrityError);
    expect(() => parse(2, [Buffer.from('"a"b,c\n')])).toThrow(ExportIntegrityError);
    expect(() => parse(2, [Buffer.from('a,b\nc,')])).toThrow(/ends inside a record/);
    expect(() => parse(2, [Buffer.from('a,"b\n')])).toThrow(/ends inside a record/);
  });
});
