import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { UnrecoverableJobError } from '@cdr-reports/domain';
import { GzipBlocks } from '../src/gzip-blocks';
import { RowBlocker } from '../src/row-blocks';
import { placeBlock, SplitFileSink, type OpenFile } from '../src/split-file-sink';

/** Files kept in memory: what the sink wrote into each, and the order in which files were opened and finished. */
function memoryFiles(header: Buffer, options: { finishDelayMs?: number } = {}) {
  const files: Buffer[][] = [];
  const events: string[] = [];
  let open = 0;
  const openFile = (index: number): OpenFile => {
    open++;
    events.push(`open ${index}`);
    const parts = [header];
    files.push(parts);
    return {
      headerCost: header.length,
      write: (data) => void parts.push(data),
      finish: async () => {
        await new Promise((resolve) => setTimeout(resolve, options.finishDelayMs ?? 0));
        events.push(`stored ${index}`);
        open--;
        const bytes = Buffer.concat(parts);
        return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      },
    };
  };
  return { files: () => files.map((parts) => Buffer.concat(parts)), events, openFile, openCount: () => open };
}

const block = (text: string, rows: number) => ({ data: Buffer.from(text), rows, cost: text.length });

describe('placeBlock', () => {
  const limits = { maxRows: 10, maxCost: 100 };

  it('appends while rows and cost both stay within the limits, limits included', () => {
    expect(placeBlock({ rows: 4, cost: 60 }, { rows: 6, cost: 40 }, limits)).toBe('append');
    expect(placeBlock({ rows: 0, cost: 5 }, { rows: 10, cost: 95 }, limits)).toBe('append');
  });

  it('starts the next file when either limit would be passed', () => {
    expect(placeBlock({ rows: 5, cost: 60 }, { rows: 6, cost: 1 }, limits)).toBe('next-file');
    expect(placeBlock({ rows: 1, cost: 60 }, { rows: 1, cost: 41 }, limits)).toBe('next-file');
  });

  it('has no limit where none is set', () => {
    expect(placeBlock({ rows: 1e9, cost: 1e12 }, { rows: 1e6, cost: 1e9 }, { maxRows: Infinity, maxCost: Infinity })).toBe('append');
  });
});

describe('SplitFileSink', () => {
  it('packs blocks in order into files that keep both limits, each starting with the header', async () => {
    const memory = memoryFiles(Buffer.from('H\n'));
    const sink = new SplitFileSink({ limits: { maxRows: 3, maxCost: 12 }, costUnit: 'bytes', open: memory.openFile });
    for (const [text, rows] of [['a\nb\n', 2], ['c\n', 1], ['d\n', 1], ['eeeeee\n', 1], ['f\n', 1]] as const) await sink.append(block(text, rows));
    const stored = await sink.end();

    expect(memory.files().map(String)).toEqual(['H\na\nb\nc\n', 'H\nd\neeeeee\n', 'H\nf\n']);
    expect(stored.map(({ index, rows, size }) => ({ index, rows, size }))).toEqual([
      { index: 1, rows: 3, size: 8 },
      { index: 2, rows: 2, size: 11 },
      { index: 3, rows: 1, size: 4 },
    ]);
    expect(stored[0]!.sha256).toBe(createHash('sha256').update('H\na\nb\nc\n').digest('hex'));
  });

  it('opens the next file only once the previous one is stored: one upload at a time', async () => {
    const memory = memoryFiles(Buffer.from('H\n'), { finishDelayMs: 20 });
    const sink = new SplitFileSink({ limits: { maxRows: 1, maxCost: Infinity }, costUnit: 'bytes', open: memory.openFile });
    for (const text of ['a\n', 'b\n', 'c\n']) {
      await sink.append(block(text, 1));
      expect(memory.openCount()).toBe(1);
    }
    await sink.end();
    expect(memory.events).toEqual(['open 1', 'stored 1', 'open 2', 'stored 2', 'open 3', 'stored 3']);
  });

  it('stores one header-only file for a report without rows', async () => {
    const memory = memoryFiles(Buffer.from('H\n'));
    const sink = new SplitFileSink({ limits: { maxRows: 5, maxCost: 100 }, costUnit: 'bytes', open: memory.openFile });
    expect((await sink.end()).map(({ index, rows }) => ({ index, rows }))).toEqual([{ index: 1, rows: 0 }]);
    expect(memory.files().map(String)).toEqual(['H\n']);
  });

  it('fails, as no retry can help, when one block fits in no file even alone after the header', async () => {
    const memory = memoryFiles(Buffer.from('HEADER\n'));
    const sink = new SplitFileSink({ limits: { maxRows: 5, maxCost: 10 }, costUnit: 'compressed bytes', open: memory.openFile });
    await sink.append(block('a\n', 1));
    await expect(sink.append(block('too long\n', 1))).rejects.toThrow(UnrecoverableJobError);
    await expect(new SplitFileSink({ limits: { maxRows: 5, maxCost: 10 }, costUnit: 'bytes', open: memory.openFile }).append(block('too long\n', 1))).rejects.toThrow(
      /1 CSV row\(s\) take 9 bytes, more than a file limited to 10 holds after its header \(7\)/,
    );
  });
});

describe('row blocks, gzip members and the file sink together', () => {
  /** CSV rows, compressible or not (base64 of random bytes compresses little), some with quoted newlines. */
  function csv(rows: number, incompressible: boolean): Buffer {
    const lines = ['id,client_ref,message_body\n'];
    for (let i = 0; i < rows; i++) {
      const body = incompressible ? randomBytes(90).toString('base64') : `Your code is ${String(i % 1000).padStart(6, '0')}`;
      lines.push(i % 7 === 0 ? `${i},"ref\n${i}","${body}\nsecond line"\n` : `${i},ref-${i},${body}\n`);
    }
    return Buffer.from(lines.join(''));
  }

  async function split(input: Buffer, limits: { maxRows: number; maxCost: number }, blockBytes: number) {
    const blocker = new RowBlocker({ blockBytes, fileRows: Number.isFinite(limits.maxRows) ? limits.maxRows : undefined });
    let headerMember: Buffer | undefined;
    const files: Buffer[][] = [];
    const sink = new SplitFileSink({
      limits,
      costUnit: 'compressed bytes',
      open: () => {
        headerMember ??= gzipSync(blocker.header!, { level: 6 });
        const parts = [headerMember];
        files.push(parts);
        return {
          headerCost: headerMember.length,
          write: (data) => void parts.push(data),
          finish: async () => ({ size: Buffer.concat(parts).length, sha256: '' }),
        };
      },
    });
    const members = new GzipBlocks({ level: 6, parallel: 3 }, async ({ member, rows }) => sink.append({ data: member, rows, cost: member.length }));
    for (let at = 0; at < input.length; at += 5000) for (const b of blocker.push(input.subarray(at, at + 5000))) await members.add(b);
    for (const b of blocker.end()) await members.add(b);
    await members.flush();
    const stored = await sink.end();
    return { header: blocker.header!, files: files.map((parts) => Buffer.concat(parts)), stored };
  }

  for (const incompressible of [false, true]) {
    it(`keeps every file within the byte limit, whole and valid alone (${incompressible ? 'incompressible' : 'compressible'} rows)`, async () => {
      const rows = incompressible ? 4000 : 40_000;
      const input = csv(rows, incompressible);
      const maxCost = 64 * 1024;
      const { header, files, stored } = await split(input, { maxRows: Infinity, maxCost }, maxCost / 2);

      expect(files.length).toBeGreaterThan(2);
      const contents = files.map((file) => gunzipSync(file));
      for (const [index, file] of files.entries()) {
        expect(file.length).toBeLessThanOrEqual(maxCost);
        expect(contents[index]!.subarray(0, header.length).equals(header)).toBe(true);
      }
      // Without their repeated headers, the files are the CSV byte for byte; their rows add up.
      const joined = Buffer.concat([header, ...contents.map((content) => content.subarray(header.length))]);
      expect(joined.equals(input)).toBe(true);
      expect(stored.reduce((total, file) => total + file.rows, 0)).toBe(rows);
      // Filled up: each file but the last ends only because the next member would not fit.
      for (const file of files.slice(0, -1)) expect(file.length).toBeGreaterThan(maxCost / 4);
    });
  }

  it('cuts exactly every maxRows rows when only rows are limited', async () => {
    const { stored } = await split(csv(10_000, false), { maxRows: 3000, maxCost: Infinity }, 64 * 1024);
    expect(stored.map((file) => file.rows)).toEqual([3000, 3000, 3000, 1000]);
  });
});
