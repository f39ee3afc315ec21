import { CsvRecordCounter } from '@cdr-reports/export';

/** Counts the records of a whole CSV document the slow, obvious way: one byte at a time. */
function referenceCount(document: Buffer): number {
  let inQuotes = false;
  let records = 0;
  for (const byte of document) {
    if (byte === 0x22) inQuotes = !inQuotes;
    else if (byte === 0x0a && !inQuotes) records++;
  }
  return records;
}

function countIn(chunks: Buffer[]): number {
  const counter = new CsvRecordCounter();
  for (const chunk of chunks) counter.push(chunk);
  return counter.records;
}

// Every shape PostgreSQL's COPY CSV writes: quoted newlines (\n and \r\n), doubled quotes, a quote right
// before and after a newline, empty quoted values, null (empty) cells, multi-byte UTF-8 and a quoted last field.
const TRICKY = Buffer.from(
  [
    'id,client_ref,message_body\n',
    '1,plain,"line one\nline two"\n',
    '2,"say ""hi""","a\r\nb"\n',
    '3,"""","\n"\n',
    '4,,""\n',
    '5,"""quoted""","ends with a newline\n"\n',
    '6,"€ and 🎉, with a comma","""\n"""\n',
    '7,x,""""""\n',
    '8,"",last\n',
  ].join(''),
  'utf8',
);
const TRICKY_RECORDS = 9;

describe('CsvRecordCounter', () => {
  it('counts the records of the tricky document, header included', () => {
    expect(referenceCount(TRICKY)).toBe(TRICKY_RECORDS);
    expect(countIn([TRICKY])).toBe(TRICKY_RECORDS);
  });

  it('counts the same when the document is split in two at every offset', () => {
    for (let at = 0; at <= TRICKY.length; at++) {
      expect({ at, records: countIn([TRICKY.subarray(0, at), TRICKY.subarray(at)]) }).toEqual({ at, records: TRICKY_RECORDS });
    }
  });

  it('counts the same when the document is split in three at every pair of offsets', () => {
    const failures: string[] = [];
    for (let a = 0; a <= TRICKY.length; a++) {
      for (let b = a; b <= TRICKY.length; b++) {
        const records = countIn([TRICKY.subarray(0, a), TRICKY.subarray(a, b), TRICKY.subarray(b)]);
        if (records !== TRICKY_RECORDS) failures.push(`${a}/${b}: ${records}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('counts the same when the document arrives one byte at a time', () => {
    expect(countIn([...TRICKY].map((byte) => Buffer.from([byte])))).toBe(TRICKY_RECORDS);
  });

  it('counts records as their newline arrives, not before', () => {
    const counter = new CsvRecordCounter();
    counter.push(Buffer.from('a,"b\n'));
    expect(counter.records).toBe(0);
    counter.push(Buffer.from('c"'));
    expect(counter.records).toBe(0);
    counter.push(Buffer.from('\nd,e'));
    expect(counter.records).toBe(1);
    counter.push(Buffer.from('\n'));
    expect(counter.records).toBe(2);
  });

  it('counts nothing for an empty stream and a header-only document as one record', () => {
    expect(countIn([])).toBe(0);
    expect(countIn([Buffer.alloc(0)])).toBe(0);
    expect(countIn([Buffer.from('id,from,to\n')])).toBe(1);
  });

  it('agrees with the byte-at-a-time reference on random documents and random chunkings', () => {
    // A small deterministic generator: the failures, if any, are reproducible.
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = ['a', 'é', '🎉', ',', '\n', '\r\n', '""'];
    for (let round = 0; round < 300; round++) {
      const lines: string[] = [];
      const rows = 1 + Math.floor(next() * 8);
      for (let r = 0; r < rows; r++) {
        const cells: string[] = [];
        const columns = 1 + Math.floor(next() * 4);
        for (let c = 0; c < columns; c++) {
          let value = '';
          const length = Math.floor(next() * 6);
          for (let i = 0; i < length; i++) value += pieces[Math.floor(next() * pieces.length)]!;
          // Quoted exactly as COPY quotes: whenever the value holds a delimiter, quote or line end.
          cells.push(/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
        }
        lines.push(`${cells.join(',')}\n`);
      }
      const document = Buffer.from(lines.join(''), 'utf8');
      const chunks: Buffer[] = [];
      for (let at = 0; at < document.length; ) {
        const size = 1 + Math.floor(next() * 7);
        chunks.push(document.subarray(at, at + size));
        at += size;
      }
      expect(countIn(chunks)).toBe(rows);
      expect(referenceCount(document)).toBe(rows);
    }
  });

  it('finds each record end with nextRecordEnd, at the offsets a byte-at-a-time scan finds, whatever the chunking', () => {
    let seed = 5;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const expected: number[] = [];
    let inQuotes = false;
    for (const [at, byte] of [...TRICKY].entries()) {
      if (byte === 0x22) inQuotes = !inQuotes;
      else if (byte === 0x0a && !inQuotes) expected.push(at + 1);
    }
    for (let round = 0; round < 200; round++) {
      const counter = new CsvRecordCounter();
      const found: number[] = [];
      for (let start = 0; start < TRICKY.length; ) {
        const chunk = TRICKY.subarray(start, start + 1 + Math.floor(next() * 12));
        for (let at = counter.nextRecordEnd(chunk, 0); at !== -1; at = counter.nextRecordEnd(chunk, at)) found.push(start + at);
        start += chunk.length;
      }
      expect(found).toEqual(expected);
      expect(counter.records).toBe(TRICKY_RECORDS);
    }
  });
});
