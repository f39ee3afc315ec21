import { PassThrough } from 'node:stream';
import { PARQUET_TIMEZONE_KEY, UnrecoverableJobError, parquetColumns, type ParquetColumn, type ReportRequest } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import { startFileUpload, type HashedObject } from './hashed-upload';
import { isParquetNaming, parquetSplitFileNaming } from './parquet-file-naming';
import { ParquetFileWriter } from './parquet-file-writer';
import { RowGroupBuffer, footerBound, rowGroupBound } from './parquet-row-group';
import { TypedCsvParser, type TypedField } from './parquet-typed-csv-parser';
import type { ReportFileNaming } from './report-file';
import { deleteStored, type ExportedFile, type ReportOutput } from './report-output';
import type { FileSplitLimits } from './split-limits';

const MIB = 1024 * 1024;

/**
 * Most rows of one row group. Encoding a row group blocks the event loop: 0.2-0.35 s for 25,000 rows of every CDR
 * column (measured; up to 0.65 s when a garbage collection falls in it), short enough for BullMQ's lock renewal
 * (30 s locks, renewed every 15 s) and for the other jobs of the process. Smaller groups stall less but make
 * larger files (10,000 rows: +20% on generated CDRs); 25k to 100k make files of about the same size.
 */
export const DEFAULT_ROW_GROUP_ROWS = 25_000;
/** Most bytes (as rowGroupBound counts them) of one row group: what caps memory when rows are long. */
const MAX_ROW_GROUP_BYTES = 32 * MIB;
/** A row group is at most this share of a byte limit, so that files end close to it (see ParquetOutput). */
const ROW_GROUPS_PER_LIMIT = 4;

export interface ParquetOutputOptions {
  store: ObjectStore;
  /** The report's single file: split files take its folder and name, with _part00001. */
  naming: ReportFileNaming;
  request: ReportRequest;
  /** Split into files by rows and/or bytes (checked by checkLimits). Default: one file. */
  limits?: FileSplitLimits;
  signal: AbortSignal;
  logger: Logger;
  /** Most rows of one row group. Default DEFAULT_ROW_GROUP_ROWS. */
  rowGroupRows?: number;
  /** zstd level. Default 3. */
  zstdLevel?: number;
}

/** The file being written and uploaded. */
interface OpenFile {
  index: number;
  key: string;
  name: string;
  writer: ParquetFileWriter;
  input: PassThrough;
  upload: Promise<HashedObject>;
  /** Settles once the upload has (resolved or failed and torn the writer's stream down). */
  settled: Promise<void>;
  rows: number;
  rowGroups: number;
}

/**
 * A report as Parquet: reads the typed CSV of the report (cdr-store's typed-csv-queries.ts: no header, raw values,
 * UTC timestamps, NULL apart from ''), converts every value exactly to its column's Parquet type (the domain's
 * parquetColumns), and writes row groups into an upload as they fill. Memory: one row group of rows.
 *
 * Split files (limits) are each a complete Parquet file with the whole schema:
 * - max_file_rows: row groups end where a file must, so every file but the last holds exactly that many rows;
 * - max_file_bytes: a compressed size is known only once written, so files close on bounds known beforehand: a
 *   row group is cut before its upper bound (rowGroupBound: its values uncompressed, plus zstd's worst case and
 *   headers) passes 1/4 of the limit, and the file is closed before a row group when the bytes already written,
 *   plus that row group's bound, plus the bound of the footer it would then have (footerBound), could pass the
 *   limit. No file can exceed the limit whatever the data; since data compresses far below its bound, a file
 *   ends somewhat more than 3/4 full (a 1 MiB limit, the least, gives files of about 600-700 KiB).
 * A report without rows is one file with the schema and no row group. Every file started is deleted when the
 * export fails or is aborted, even after finish.
 */
export class ParquetOutput implements ReportOutput {
  private readonly columns: ParquetColumn[];
  private readonly parser: TypedCsvParser;
  private readonly group: RowGroupBuffer;
  private readonly rowGroupRows: number;
  private readonly groupBytes: number;
  private readonly metadata: Record<string, string>;
  private readonly metadataBytes: number;
  /** Records parsed and not yet in the row group (one chunk's worth at most). */
  private queue: TypedField[][] = [];
  private queued = 0;
  private current: OpenFile | undefined;
  private readonly stored: ExportedFile[] = [];
  /** Every key this export started to store: all are deleted when it fails. */
  private readonly keys: string[] = [];
  private uploadError: unknown;

  constructor(private readonly options: ParquetOutputOptions) {
    if (!isParquetNaming(options.naming)) throw new Error(`${options.naming.name} is not a Parquet file name`);
    this.columns = parquetColumns(options.request);
    this.parser = new TypedCsvParser(this.columns.length, (fields) => this.queue.push(fields));
    this.group = new RowGroupBuffer(this.columns);
    this.rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    const maxBytes = options.limits?.maxFileBytes;
    this.groupBytes = maxBytes === undefined ? MAX_ROW_GROUP_BYTES : Math.min(MAX_ROW_GROUP_BYTES, Math.floor(maxBytes / ROW_GROUPS_PER_LIMIT));
    this.metadata = { [PARQUET_TIMEZONE_KEY]: options.request.timezone };
    this.metadataBytes = Object.entries(this.metadata).reduce((total, [key, value]) => total + Buffer.byteLength(key) + Buffer.byteLength(value) + 16, 0);
  }

  /** Records of the typed CSV read so far (it has no header row). */
  get records(): number {
    return this.parser.records;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    this.parser.push(chunk);
    return this.gather();
  }

  async finish(): Promise<ExportedFile[]> {
    this.parser.end();
    await this.gather();
    if (this.group.rows > 0) await this.writeGroup();
    // A report without rows still gets its file, with the schema.
    if (!this.current && this.stored.length === 0) this.open();
    if (this.current) await this.close();
    return this.stored;
  }

  async abort(error: unknown): Promise<unknown> {
    // Taken before the upload is torn down below, which fails it too.
    const cause = this.uploadError ?? error;
    const current = this.current;
    this.current = undefined;
    if (current) {
      current.input.destroy(error as Error);
      await current.settled;
    }
    await deleteStored(this.options.store, this.keys, this.options.logger);
    return cause;
  }

  /**
   * Moves the queued records into the row group, writing it out whenever it is full: synchronously while no row
   * group is due (most chunks), else as a promise that writes it and goes on.
   */
  private gather(): Promise<void> | undefined {
    const maxRows = this.options.limits?.maxFileRows;
    while (this.queued < this.queue.length) {
      const fields = this.queue[this.queued]!;
      const bound = this.group.rowBound(fields);
      if (this.group.rows > 0 && rowGroupBound(this.group.valueBytes + bound, this.columns.length) > this.groupBytes) return this.writeAndGather();
      this.group.add(fields, bound);
      this.queued++;
      const fileRows = (this.current?.rows ?? 0) + this.group.rows;
      if (this.group.rows >= this.rowGroupRows || (maxRows !== undefined && fileRows >= maxRows)) return this.writeAndGather();
    }
    this.queue = [];
    this.queued = 0;
    return undefined;
  }

  private async writeAndGather(): Promise<void> {
    await this.writeGroup();
    await this.gather();
  }

  /** Writes the row group gathered into the current file (closing it first if the group could take it past its byte limit). */
  private async writeGroup(): Promise<void> {
    const { values, rows, valueBytes } = this.group.take();
    const bound = rowGroupBound(valueBytes, this.columns.length);
    const maxBytes = this.options.limits?.maxFileBytes;
    if (maxBytes !== undefined) {
      const fits = (file: OpenFile | undefined) =>
        (file?.writer.bytesWritten ?? 4) + bound + footerBound(this.columns, (file?.rowGroups ?? 0) + 1, this.metadataBytes) <= maxBytes;
      if (this.current && this.current.rowGroups > 0 && !fits(this.current)) await this.close();
      if (!fits(this.current)) {
        throw new UnrecoverableJobError(
          `${rows} row(s) may take up to ${bound} bytes of Parquet, more than a file limited to ${maxBytes} bytes holds with its footer; rows are never cut across files`,
        );
      }
    }
    const file = this.current ?? this.open();
    await file.writer.writeRowGroup(values, rows);
    file.rows += rows;
    file.rowGroups++;
    const maxRows = this.options.limits?.maxFileRows;
    if (maxRows !== undefined && file.rows >= maxRows) await this.close();
  }

  private open(): OpenFile {
    const index = this.stored.length + 1;
    const naming = this.options.limits ? parquetSplitFileNaming(this.options.naming, index) : this.options.naming;
    const input = new PassThrough({ highWaterMark: MIB });
    this.keys.push(naming.key);
    const { upload, settled } = startFileUpload(this.options.store, naming, input, input, this.options.signal, (error) => {
      this.uploadError ??= error;
    });
    const writer = new ParquetFileWriter(input, { columns: this.columns, metadata: this.metadata, ...(this.options.zstdLevel !== undefined && { zstdLevel: this.options.zstdLevel }) });
    this.current = { index, key: naming.key, name: naming.name, writer, input, upload, settled, rows: 0, rowGroups: 0 };
    return this.current;
  }

  /** Writes the current file's footer and waits until it is stored. */
  private async close(): Promise<void> {
    const file = this.current!;
    await file.writer.finish();
    const stored = await file.upload;
    this.current = undefined;
    this.stored.push({ key: stored.key, name: file.name, rows: file.rows, size_bytes: stored.size, sha256: stored.sha256, content_type: this.options.naming.contentType });
  }
}
