import { ExportIntegrityError } from '@cdr-reports/domain';
import { RowBlocker, type RowBlock, type RowBlockerOptions } from '../src/row-blocks';

/** The records of a whole CSV document, split the slow, obvious way: one byte at a time. */
function referenceRecords(document: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let inQuotes = false;
  let start = 0;
  for (let at = 0; at < document.length; at++) {
    if (document[at] === 0x22) inQuotes = !inQuotes;
    else if (document[at] === 0x0a && !inQuotes) {
      records.push(document.subarray(start, at + 1));
      start = at + 1;
    }
  }
  return records;
}

/** A deterministic generator: failures are reproducible. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** A CSV document as COPY writes it: a header, then rows whose free-text cells hold commas, quotes and newlines. */
function document(rows: number, next: () => number): Buffer {
  const pieces = ['a', 'é', '🎉', ',', '\n', '\r\n', '""', 'lorem ipsum '];
  const lines = ['id,client_ref,message_body\n'];
  for (let r = 0; r < rows; r++) {
    let text = '';
    const length = Math.floor(next() * 40);
    for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)]!;
    lines.push(`${r},ref-${r},"${text.replace(/"/g, '""')}"\n`);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

function chunked(input: Buffer, next: () => number, largest: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const size = 1 + Math.floor(next() * largest);
    chunks.push(input.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function blocksOf(chunks: Buffer[], options: RowBlockerOptions): { blocker: RowBlocker; blocks: RowBlock[] } {
  const blocker = new RowBlocker(options);
  const blocks = chunks.flatMap((chunk) => blocker.push(chunk));
  blocks.push(...blocker.end());
  return { blocker, blocks };
}

describe('RowBlocker', () => {
  it('keeps the header apart and cuts the rows into blocks of whole records, whatever the chunking', () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const input = document(1 + Math.floor(next() * 60), next);
      const records = referenceRecords(input);
      const blockBytes = 20 + Math.floor(next() * 400);
      const { blocker, blocks } = blocksOf(chunked(input, next, 1 + Math.floor(next() * 300)), { blockBytes });

      expect(blocker.header).toEqual(records[0]);
      expect(blocker.records).toBe(records.length);
      expect(Buffer.concat(blocks.map((block) => block.data)).equals(input.subarray(records[0]!.length))).toBe(true);
      // Block by block, the reference records in order: each block is exactly its next `rows` records.
      let record = 1;
      for (const block of blocks) {
        const expected = Buffer.concat(records.slice(record, record + block.rows));
        expect(block.data.equals(expected)).toBe(true);
        record += block.rows;
        expect(block.rows).toBeGreaterThan(0);
        // Over the block size only when one record alone is.
        if (block.rows > 1) expect(block.data.length).toBeLessThanOrEqual(blockBytes);
      }
      expect(record).toBe(records.length);
    }
  });

  it('never lets a block cross a file boundary of fileRows, so files of whole blocks hold exactly fileRows rows', () => {
    const next = random(11);
    for (let round = 0; round < 100; round++) {
      const input = document(1 + Math.floor(next() * 80), next);
      const fileRows = 1 + Math.floor(next() * 12);
      const { blocks } = blocksOf(chunked(input, next, 200), { blockBytes: 10_000_000, fileRows });
      let before = 0;
      for (const block of blocks) {
        // With a large block size, only the file boundaries cut: every block is one file's rows.
        expect(Math.floor(before / fileRows)).toBe(Math.floor((before + block.rows - 1) / fileRows));
        before += block.rows;
      }
      expect(blocks.slice(0, -1).every((block) => block.rows === fileRows)).toBe(true);
    }
  });

  it('plans files by uncompressed bytes (header included) and cuts blocks exactly where the next record would not fit', () => {
    const next = random(13);
    for (let round = 0; round < 100; round++) {
      const input = document(1 + Math.floor(next() * 80), next);
      const records = referenceRecords(input);
      const header = records[0]!.length;
      const fileBytes = header + 150 + Math.floor(next() * 600);
      const blockBytes = 40 + Math.floor(next() * 200);
      const fileRows = next() < 0.5 ? undefined : 1 + Math.floor(next() * 20);
      const { blocks } = blocksOf(chunked(input, next, 120), { blockBytes, fileBytes, fileRows });

      // Pack the blocks greedily, as the file sink does, and compare with the plan record by record.
      const files: number[][] = [];
      let file: number[] = [];
      let bytes = header;
      let nextRecord = 1;
      for (const block of blocks) {
        const full = file.length > 0 && (bytes + block.data.length > fileBytes || (fileRows !== undefined && file.length + block.rows > fileRows));
        if (full) {
          files.push(file);
          file = [];
          bytes = header;
        }
        bytes += block.data.length;
        for (let r = 0; r < block.rows; r++) file.push(nextRecord++);
      }
      files.push(file);
      let previousEnd = 1;
      for (const rows of files) {
        const size = header + rows.reduce((total, index) => total + records[index]!.length, 0);
        if (rows.length > 1) expect(size).toBeLessThanOrEqual(fileBytes);
        if (fileRows !== undefined) expect(rows.length).toBeLessThanOrEqual(fileRows);
        expect(rows[0]).toBe(previousEnd);
        previousEnd = rows[rows.length - 1]! + 1;
        // Exact: the file ended because the next record would not fit (or the rows limit was reached).
        const following = records[previousEnd];
        if (following) {
          const rowsFull = fileRows !== undefined && rows.length === fileRows;
          expect(rowsFull || size + following.length > fileBytes).toBe(true);
        }
      }
      expect(previousEnd).toBe(records.length);
    }
  });

  it('cuts at quoted newlines never: a record of several lines stays whole in its block', () => {
    const input = Buffer.from('id,body\n1,"a\nb\nc"\n2,"x\r\ny"\n3,plain\n');
    const { blocks } = blocksOf(chunked(input, random(3), 3), { blockBytes: 1, fileRows: 1 });
    expect(blocks.map((block) => block.data.toString())).toEqual(['1,"a\nb\nc"\n', '2,"x\r\ny"\n', '3,plain\n']);
  });

  it('makes no block of a header-only CSV, and none of an empty one', () => {
    const headerOnly = blocksOf([Buffer.from('id,from'), Buffer.from(',to\n')], { blockBytes: 100 });
    expect(headerOnly.blocks).toEqual([]);
    expect(headerOnly.blocker.header?.toString()).toBe('id,from,to\n');
    expect(headerOnly.blocker.records).toBe(1);
    const empty = blocksOf([], { blockBytes: 100 });
    expect(empty.blocks).toEqual([]);
    expect(empty.blocker.header).toBeUndefined();
  });

  it('refuses a CSV that ends inside a record: bytes after the last newline mean the stream was cut short', () => {
    const blocker = new RowBlocker({ blockBytes: 100 });
    blocker.push(Buffer.from('id\n1\n2,"open'));
    expect(() => blocker.end()).toThrow(ExportIntegrityError);
  });
});
