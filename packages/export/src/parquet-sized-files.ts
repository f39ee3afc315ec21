import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { UnrecoverableJobError, type ParquetColumn } from '@cdr-reports/domain';
import { attachmentDisposition, type ObjectStore } from '@cdr-reports/object-store';
import { CsvRecordCounter } from './csv-record-counter';
import { putHashed } from './hashed-upload';
import { acquireCopySlot, copyCsvToParquet } from './parquet-duckdb';
import { parquetTempRoot } from './parquet-temp';
import type { ReportFileNaming } from './report-file';
import type { ExportedFile } from './report-output';
import type { RowBlock } from './row-blocks';
import { drained } from './stream-drained';

/**
 * Bytes of typed CSV per byte of Parquet assumed for the first file, before any file has been measured. CDRs
 * measure 4-5; a guess too high costs one more encoding of the first file (see SizedParquetFiles).
 */
const INITIAL_CSV_PER_PARQUET = 4;
/** A file is planned to this share of the limit: the next file's rows vary a little from the last one's. */
const FILL = 0.9;
/** A file that came out over the limit is encoded again with this share of the rows that would just fit. */
const SHRINK = 0.95;

export interface SizedParquetFilesOptions {
  store: ObjectStore;
  columns: readonly ParquetColumn[];
  metadata: Record<string, string>;
  maxFileBytes: number;
  maxFileRows?: number;
  /** The naming of file `index` (from 1). */
  naming(index: number): ReportFileNaming;
  /** Called with each key before anything is stored under it (the output deletes them all on failure). */
  onKey(key: string): void;
  signal: AbortSignal;
}

/** The typed CSV of the next file, on disk, with its blocks (whole records each) so that a record can be found. */
interface Spool {
  path: string;
  stream: WriteStream;
  rows: number;
  bytes: number;
  blocks: Array<{ rows: number; bytes: number }>;
}

/**
 * A Parquet report split by max_file_bytes: a Parquet file's size is known only once DuckDB has written it, and
 * no stored file may pass the limit whatever the data. So the typed CSV of each file is spooled to a temporary
 * file first (as much as should fill the limit, at the ratio of CSV to Parquet bytes the last file measured, and
 * never more rows than max_file_rows), DuckDB writes the Parquet file from it to another temporary file, and the
 * file is stored only if it is within the limit; if not, it is written again from the first rows of the spool
 * only (scaled by how far over it came out), and the rows left over start the next file. Every stored file is a
 * complete Parquet file; files end about 85-90% full. Disk: the spool (about 4-5 times the limit for CDRs) and
 * one Parquet file; memory: DuckDB's row group.
 */
export class SizedParquetFiles {
  private folder: string | undefined;
  private spool: Spool | undefined;
  private spools = 0;
  private csvPerParquet = INITIAL_CSV_PER_PARQUET;
  private readonly stored: ExportedFile[] = [];
  /** Rows DuckDB wrote, over every file. */
  written = 0;

  constructor(private readonly options: SizedParquetFilesOptions) {}

  /** Takes the next block of whole records; writes files as their rows are spooled. */
  async add(block: RowBlock): Promise<void> {
    const spool = this.spool ?? (await this.startSpool());
    spool.blocks.push({ rows: block.rows, bytes: block.data.length });
    spool.rows += block.rows;
    spool.bytes += block.data.length;
    if (!spool.stream.write(block.data)) await drained(spool.stream);
    while (this.spool && this.due(this.spool)) await this.writeFile();
  }

  /** The CSV has ended: writes the rest (a report without rows gets one file with the schema) and lists every file. */
  async end(): Promise<ExportedFile[]> {
    while ((this.spool && this.spool.rows > 0) || this.stored.length === 0) await this.writeFile();
    await this.remove();
    return this.stored;
  }

  /** Removes the temporary files (after a failure; stored files are the output's to delete). */
  async remove(): Promise<void> {
    this.spool?.stream.destroy();
    this.spool = undefined;
    if (this.folder) await rm(this.folder, { recursive: true, force: true });
    this.folder = undefined;
  }

  private due(spool: Spool): boolean {
    const { maxFileBytes, maxFileRows } = this.options;
    return (maxFileRows !== undefined && spool.rows >= maxFileRows) || spool.bytes >= maxFileBytes * this.csvPerParquet * FILL;
  }

  private async startSpool(): Promise<Spool> {
    this.folder ??= await mkdtemp(join(parquetTempRoot(), 'file-'));
    const path = join(this.folder, `spool-${++this.spools}.csv`);
    const stream = createWriteStream(path, { mode: 0o600 });
    this.spool = { path, stream, rows: 0, bytes: 0, blocks: [] };
    return this.spool;
  }

  /** Writes the next file from the first rows of the spool, stores it, and carries the rows left to a new spool. */
  private async writeFile(): Promise<void> {
    const { maxFileBytes, maxFileRows, signal } = this.options;
    const spool = this.spool ?? (await this.startSpool());
    this.spool = undefined;
    spool.stream.end();
    await finished(spool.stream);
    const index = this.stored.length + 1;
    const output = join(this.folder!, `file-${index}.parquet`);
    let rows = Math.min(spool.rows, maxFileRows ?? Infinity);
    let size: number;
    for (;;) {
      const limit = rows < spool.rows ? rows : undefined;
      const release = await acquireCopySlot();
      const written = await copyCsvToParquet({ columns: this.options.columns, metadata: this.options.metadata, input: spool.path, output, ...(limit !== undefined && { limit }) }, signal).finally(release);
      if (written !== rows) throw new UnrecoverableJobError(`DuckDB wrote ${written} row(s) where ${rows} were given`);
      size = (await stat(output)).size;
      if (size <= maxFileBytes) break;
      if (rows <= 1) {
        throw new UnrecoverableJobError(`one row takes ${size} bytes of Parquet, more than a file limited to ${maxFileBytes} bytes holds; rows are never cut across files`);
      }
      rows = Math.max(1, Math.floor(rows * (maxFileBytes / size) * SHRINK));
    }
    const naming = this.options.naming(index);
    this.options.onKey(naming.key);
    const stored = await putHashed(this.options.store, naming.key, createReadStream(output), {
      contentType: naming.contentType,
      contentDisposition: attachmentDisposition(naming.name),
      signal,
    });
    this.stored.push({ key: stored.key, name: naming.name, rows, size_bytes: stored.size, sha256: stored.sha256, content_type: naming.contentType });
    this.written += rows;
    const csvBytes = rows === spool.rows ? spool.bytes : await this.offsetOfRecord(spool, rows);
    if (rows > 0 && size > 0) this.csvPerParquet = csvBytes / size;
    await rm(output);
    if (rows < spool.rows) await this.carry(spool, rows, csvBytes);
    await rm(spool.path);
  }

  /** The byte offset in the spool where record `record` (from 0) starts: found in the one block that holds it. */
  private async offsetOfRecord(spool: Spool, record: number): Promise<number> {
    let rowsBefore = 0;
    let offset = 0;
    for (const block of spool.blocks) {
      if (rowsBefore + block.rows > record) {
        const data = Buffer.alloc(block.bytes);
        const file = await open(spool.path, 'r');
        try {
          await file.read(data, 0, block.bytes, offset);
        } finally {
          await file.close();
        }
        const counter = new CsvRecordCounter();
        let at = 0;
        for (let skipped = rowsBefore; skipped < record; skipped++) at = counter.nextRecordEnd(data, at);
        return offset + at;
      }
      rowsBefore += block.rows;
      offset += block.bytes;
    }
    return offset;
  }

  /** Starts the next spool with the rows of `spool` from record `from` (at byte `offset`) on. */
  private async carry(spool: Spool, from: number, offset: number): Promise<void> {
    const next = await this.startSpool();
    for await (const chunk of createReadStream(spool.path, { start: offset })) {
      if (!next.stream.write(chunk)) await drained(next.stream);
    }
    let rowsBefore = 0;
    let bytesBefore = 0;
    for (const block of spool.blocks) {
      const end = { rows: rowsBefore + block.rows, bytes: bytesBefore + block.bytes };
      if (end.rows > from) next.blocks.push({ rows: end.rows - Math.max(rowsBefore, from), bytes: end.bytes - Math.max(bytesBefore, offset) });
      rowsBefore = end.rows;
      bytesBefore = end.bytes;
    }
    next.rows = spool.rows - from;
    next.bytes = spool.bytes - offset;
  }
}
