import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { ParallelGzip } from '../src/parallel-gzip';

/** CSV-like text of `lines` lines, varied enough that a reordered or lost block would show. */
function csv(lines: number): Buffer {
  return Buffer.from(Array.from({ length: lines }, (_, i) => `${i},+4477009${String(i).padStart(5, '0')},answered,0.0125\n`).join(''));
}

async function compress(input: Buffer, options: { blockSize: number; parallel?: number }, chunkSize = 1000): Promise<Buffer> {
  const chunks = Array.from({ length: Math.ceil(input.length / chunkSize) }, (_, i) => input.subarray(i * chunkSize, (i + 1) * chunkSize));
  return buffer(Readable.from(chunks).pipe(new ParallelGzip({ level: 4, ...options })));
}

/** The gzip members of a file: each starts with the magic bytes 1f 8b 08. */
function memberCount(file: Buffer): number {
  let count = 0;
  for (let at = file.indexOf('1f8b08', 0, 'hex'); at !== -1; at = file.indexOf('1f8b08', at + 1, 'hex')) count++;
  return count;
}

describe('ParallelGzip', () => {
  const input = csv(40_000);

  it('writes the blocks as gzip members in order: the file inflates to exactly the input', async () => {
    const file = await compress(input, { blockSize: 64 * 1024, parallel: 3 });
    expect(memberCount(file)).toBeGreaterThanOrEqual(Math.floor(input.length / (64 * 1024)));
    expect(gunzipSync(file).equals(input)).toBe(true);
  });

  it('is read whole by gunzip, zcat and Python, as every gzip reader must read several members', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parallel-gzip-'));
    try {
      const path = join(dir, 'report.csv.gz');
      writeFileSync(path, await compress(input, { blockSize: 32 * 1024 }));
      expect(execFileSync('gunzip', ['-c', path], { maxBuffer: 64 * 1024 * 1024 }).equals(input)).toBe(true);
      expect(execFileSync('zcat', [path], { maxBuffer: 64 * 1024 * 1024 }).equals(input)).toBe(true);
      const python = 'import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())';
      expect(execFileSync('python3', ['-c', python, path], { maxBuffer: 64 * 1024 * 1024 }).equals(input)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes one member of a small input and a valid empty file of no input', async () => {
    const small = csv(3);
    const file = await compress(small, { blockSize: 1024 * 1024 });
    expect(memberCount(file)).toBe(1);
    expect(gunzipSync(file).equals(small)).toBe(true);
    expect(gunzipSync(await compress(Buffer.alloc(0), { blockSize: 1024 })).length).toBe(0);
  });

  it('costs little size against one stream at the same level', async () => {
    const { gzipSync } = await import('node:zlib');
    const big = csv(200_000);
    const parallel = await compress(big, { blockSize: 1024 * 1024 }, 64 * 1024);
    expect(parallel.length / gzipSync(big, { level: 4 }).length).toBeLessThan(1.01);
  });
});
