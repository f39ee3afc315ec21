import { ExportIntegrityError } from '@cdr-reports/domain';
import { LineCounter } from '../src/line-counter';
import { recordLayout } from '../src/record-framing';
import { RowBlocker, type RowBlock, type RowBlockerOptions } from '../src/row-blocks';

/** A deterministic generator: failures are reproducible. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/**
 * JSON Lines as PostgreSQL writes it: one object per line, whose strings hold escaped quotes, backslashes and line
 * ends, so that a line often holds an odd number of `"` bytes (`"\""`), which a CSV reader would take for an open quote.
 */
function jsonLines(rows: number, next: () => number): { bytes: Buffer; lines: Buffer[] } {
  const pieces = ['a', 'é', '🎉', ',', '\n', '\r\n', '"', '\\', '\t', 'lorem ipsum '];
  const lines: Buffer[] = [];
  for (let r = 0; r < rows; r++) {
    let text = '';
    const length = Math.floor(next() * 40);
    for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)]!;
    lines.push(Buffer.from(`${JSON.stringify({ id: r, message_body: text, parts: r % 3 === 0 ? null : r })}\n`));
  }
  return { bytes: Buffer.concat(lines), lines };
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

const LINES: Partial<RowBlockerOptions> = { framing: 'lines', header: false };

function blocksOf(chunks: Buffer[], options: RowBlockerOptions): { blocker: RowBlocker; blocks: RowBlock[] } {
  const blocker = new RowBlocker(options);
  const blocks = chunks.flatMap((chunk) => blocker.push(chunk));
  blocks.push(...blocker.end());
  return { blocker, blocks };
}

describe('recordLayout', () => {
  it('frames CSV quote-aware with a header row, and JSON Lines one record per line without one', () => {
    expect(recordLayout('csv')).toEqual({ framing: 'csv', header: true });
    expect(recordLayout('jsonl')).toEqual({ framing: 'lines', header: false });
  });
});

describe('LineCounter', () => {
  it('counts every newline as the end of a record, whatever the quotes before it', () => {
    const counter = new LineCounter();
    counter.push(Buffer.from('{"a":"\\""}\n{"b":"'));
    counter.push(Buffer.from('x"}\n'));
    expect(counter.records).toBe(2);
  });
});

describe('RowBlocker with JSON Lines (framing lines, no header)', () => {
  it('cuts blocks of whole lines, whatever the chunking and however many quotes a line holds', () => {
    const next = random(5);
    for (let round = 0; round < 200; round++) {
      const { bytes, lines } = jsonLines(1 + Math.floor(next() * 60), next);
      const blockBytes = 20 + Math.floor(next() * 400);
      const { blocker, blocks } = blocksOf(chunked(bytes, next, 1 + Math.floor(next() * 300)), { blockBytes, ...LINES });

      // No header: the first line is a record like the others.
      expect(blocker.header).toEqual(Buffer.alloc(0));
      expect(blocker.records).toBe(lines.length);
      expect(Buffer.concat(blocks.map((block) => block.data)).equals(bytes)).toBe(true);
      let line = 0;
      for (const block of blocks) {
        expect(block.data.equals(Buffer.concat(lines.slice(line, line + block.rows)))).toBe(true);
        line += block.rows;
        if (block.rows > 1) expect(block.data.length).toBeLessThanOrEqual(blockBytes);
      }
      expect(line).toBe(lines.length);
    }
  });

  it('plans files by rows and by uncompressed bytes with no header to repeat', () => {
    const next = random(17);
    for (let round = 0; round < 100; round++) {
      const { bytes, lines } = jsonLines(1 + Math.floor(next() * 80), next);
      const fileRows = 1 + Math.floor(next() * 12);
      const fileBytes = 150 + Math.floor(next() * 600);
      const { blocks } = blocksOf(chunked(bytes, next, 120), { blockBytes: 10_000_000, fileRows, fileBytes, ...LINES });
      // With a large block size, only the file plan cuts: every block is one file, within both limits unless one
      // line alone is larger, and it ended because the next line would not fit.
      let line = 0;
      for (const block of blocks) {
        expect(block.rows).toBeLessThanOrEqual(fileRows);
        if (block.rows > 1) expect(block.data.length).toBeLessThanOrEqual(fileBytes);
        line += block.rows;
        const following = lines[line];
        if (following) expect(block.rows === fileRows || block.data.length + following.length > fileBytes).toBe(true);
      }
      expect(line).toBe(lines.length);
    }
  });

  it('a line with an odd number of quote bytes ends at its newline (the CSV framing would run on to the next)', () => {
    const input = Buffer.from('{"a":"\\""}\n{"a":"x"}\n');
    expect(blocksOf([input], { blockBytes: 1, ...LINES }).blocks.map((block) => block.data.toString())).toEqual(['{"a":"\\""}\n', '{"a":"x"}\n']);
    // Read as CSV (after a header row), the odd quote opens a field that never closes: the stream looks cut short.
    expect(() => blocksOf([Buffer.from(`x\n${input.toString()}`)], { blockBytes: 1 })).toThrow(ExportIntegrityError);
  });

  it('makes no block of an empty stream, and refuses one that ends inside a line', () => {
    const empty = blocksOf([], { blockBytes: 100, ...LINES });
    expect(empty.blocks).toEqual([]);
    expect(empty.blocker.records).toBe(0);
    const blocker = new RowBlocker({ blockBytes: 100, ...LINES });
    blocker.push(Buffer.from('{"a":1}\n{"a":'));
    expect(() => blocker.end()).toThrow(ExportIntegrityError);
  });
});
