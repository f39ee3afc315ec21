import { ExportIntegrityError, PARQUET_TIMEZONE_KEY, parquetColumns, type ParquetColumn, type ReportRequest } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import { isParquetNaming } from './parquet-file-naming';
import { SizedParquetFiles } from './parquet-sized-files';
import { StreamedParquetFile } from './parquet-streamed-file';
import { splitFileNaming, type ReportFileNaming } from './report-file';
import { deleteStored, type ExportedFile, type ReportOutput } from './report-output';
import { RowBlocker, type RowBlock } from './row-blocks';
import { SplitFileSink, type OpenFile } from './split-file-sink';
import type { FileSplitLimits } from './split-limits';

/** Typed CSV handed on at a time: whole records, about this many bytes. */
const BLOCK_BYTES = 1024 * 1024;

export interface ParquetOutputOptions {
  store: ObjectStore;
  /** The report's single file: split files take its folder and name, with _part00001. */
  naming: ReportFileNaming;
  request: ReportRequest;
  /** Split into files by rows and/or bytes (checked by checkLimits). Default: one file. */
  limits?: FileSplitLimits;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A report as Parquet: takes the typed CSV of the report (cdr-store's typed-csv-queries.ts), and DuckDB writes
 * each file from it (parquet-duckdb.ts), with the columns typed as the domain's parquetColumns says.
 *
 * - One file, or files split by max_file_rows: each file is streamed (StreamedParquetFile): the CSV goes into
 *   DuckDB and the Parquet bytes into the upload as they are written; a file holds exactly max_file_rows rows
 *   but the last.
 * - Files split by max_file_bytes (and maybe rows): a Parquet file's size is known only once written, so each
 *   file is written to disk, checked against the limit and then stored (SizedParquetFiles).
 * A report without rows is one file with the schema and no rows. The rows DuckDB wrote are checked against the
 * records read. Every file started is deleted when the export fails or is aborted, even after finish.
 */
export class ParquetOutput implements ReportOutput {
  private readonly columns: ParquetColumn[];
  private readonly metadata: Record<string, string>;
  private readonly blocker: RowBlocker;
  private readonly sink: SplitFileSink | undefined;
  private readonly sized: SizedParquetFiles | undefined;
  /** The streamed file being written, until it is stored. */
  private current: Promise<StreamedParquetFile> | undefined;
  /** Every key this export started to store: all are deleted when it fails. */
  private readonly keys: string[] = [];
  /** Rows DuckDB wrote into the streamed files stored. */
  private streamedRows = 0;
  private uploadError: unknown;

  constructor(private readonly options: ParquetOutputOptions) {
    if (!isParquetNaming(options.naming)) throw new Error(`${options.naming.name} is not a Parquet file name`);
    this.columns = parquetColumns(options.request);
    this.metadata = { [PARQUET_TIMEZONE_KEY]: options.request.timezone };
    const { maxFileRows, maxFileBytes } = options.limits ?? {};
    if (maxFileBytes !== undefined) {
      this.blocker = new RowBlocker({ blockBytes: BLOCK_BYTES, header: false });
      this.sized = new SizedParquetFiles({
        store: options.store,
        columns: this.columns,
        metadata: this.metadata,
        maxFileBytes,
        ...(maxFileRows !== undefined && { maxFileRows }),
        naming: (index) => splitFileNaming(options.naming, index),
        onKey: (key) => this.keys.push(key),
        signal: options.signal,
      });
    } else {
      this.blocker = new RowBlocker({ blockBytes: BLOCK_BYTES, header: false, ...(maxFileRows !== undefined && { fileRows: maxFileRows }) });
      this.sink = new SplitFileSink({
        limits: { maxRows: maxFileRows ?? Infinity, maxCost: Infinity },
        costUnit: 'bytes',
        open: (index) => this.openStreamed(index),
      });
    }
  }

  /** Records of the typed CSV read so far (it has no header row). */
  get records(): number {
    return this.blocker.records;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    const blocks = this.blocker.push(chunk);
    return blocks.length === 0 ? undefined : this.place(blocks);
  }

  async finish(): Promise<ExportedFile[]> {
    await this.place(this.blocker.end());
    const files = this.sized ? await this.sized.end() : await this.finishStreamed();
    const written = this.sized ? this.sized.written : this.streamedRows;
    if (written !== this.blocker.records) throw new ExportIntegrityError(`DuckDB wrote ${written} Parquet row(s) of ${this.blocker.records} records read`);
    return files;
  }

  async abort(error: unknown): Promise<unknown> {
    // Taken before the upload is torn down below, which fails it too.
    const cause = this.uploadError ?? error;
    const current = this.current;
    this.current = undefined;
    const file = await current?.catch(() => undefined);
    await file?.destroy(error);
    await this.sized?.remove();
    await deleteStored(this.options.store, this.keys, this.options.logger);
    return cause;
  }

  private async place(blocks: RowBlock[]): Promise<void> {
    for (const block of blocks) {
      if (this.sized) await this.sized.add(block);
      else await this.sink!.append({ data: block.data, rows: block.rows, cost: 0 });
    }
  }

  private async finishStreamed(): Promise<ExportedFile[]> {
    const stored = await this.sink!.end();
    return stored.map(({ index, rows, size, sha256 }) => {
      const naming = this.streamedNaming(index);
      return { key: naming.key, name: naming.name, rows, size_bytes: size, sha256, content_type: naming.contentType };
    });
  }

  /** Streamed file `index` (from 1): the report's single file, or a split file when there are limits. */
  private streamedNaming(index: number): ReportFileNaming {
    return this.options.limits ? splitFileNaming(this.options.naming, index) : this.options.naming;
  }

  /** Starts streamed file `index` (from 1); its writes wait until DuckDB's FIFOs are open. */
  private openStreamed(index: number): OpenFile {
    const naming = this.streamedNaming(index);
    this.keys.push(naming.key);
    const opening = StreamedParquetFile.open({
      store: this.options.store,
      naming,
      columns: this.columns,
      metadata: this.metadata,
      signal: this.options.signal,
      onUploadFailure: (error) => {
        this.uploadError ??= error;
      },
    });
    this.current = opening;
    let file: StreamedParquetFile | undefined;
    return {
      headerCost: 0,
      write: (data) => (file ? file.write(data) : opening.then(async (opened) => {
        file = opened;
        await opened.write(data);
      })),
      finish: async () => {
        const { stored, rows } = await (file ?? (await opening)).finish();
        this.current = undefined;
        this.streamedRows += rows;
        return stored;
      },
    };
  }
}
