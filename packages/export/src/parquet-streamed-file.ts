import { execFile } from 'node:child_process';
import { closeSync, constants, open as openFile, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ParquetColumn } from '@cdr-reports/domain';
import type { ObjectStore } from '@cdr-reports/object-store';
import { startFileUpload, type HashedObject } from './hashed-upload';
import { acquireCopySlot, copyCsvToParquet } from './parquet-duckdb';
import { parquetTempRoot } from './parquet-temp';
import type { ReportFileNaming } from './report-file';
import { drained } from './stream-drained';

const run = promisify(execFile);
const openFd = promisify(openFile);

export interface StreamedParquetFileOptions {
  store: ObjectStore;
  naming: ReportFileNaming;
  columns: readonly ParquetColumn[];
  metadata: Record<string, string>;
  signal: AbortSignal;
  /** The upload failed while rows were still being written: the report's failure. */
  onUploadFailure(error: unknown): void;
}

/**
 * One Parquet file written by DuckDB as its typed CSV streams in, and uploaded as DuckDB writes it: nothing is
 * kept on disk or in memory but DuckDB's row group under way. The CSV goes in, and the Parquet bytes come out,
 * through two FIFOs in a private temporary folder. Both ends on this side are sockets of the event loop (no
 * thread of libuv's pool waits on them once open):
 * - the output is opened first, read-only and without blocking, with a write end held open until the COPY has
 *   ended, so that the upload's stream ends only then (and fails, never ends, when the COPY fails);
 * - the input is opened for writing once the COPY has started, which returns when DuckDB has opened it for
 *   reading (before, the CSV written and closed would be lost: a FIFO keeps no data without a reader). If the
 *   COPY fails before it opens the input, a reader held here until that open returns releases it.
 * The file holds a COPY slot (parquet-duckdb.ts) from before its COPY starts until it ends.
 */
export class StreamedParquetFile {
  private holdOutput: number | undefined;

  private constructor(
    private readonly folder: string,
    private readonly input: Socket,
    private readonly output: Socket,
    holdOutput: number,
    private readonly stop: AbortController,
    private readonly copy: Promise<number>,
    private readonly upload: Promise<HashedObject>,
    private readonly settled: Promise<void>,
  ) {
    this.holdOutput = holdOutput;
  }

  static async open(options: StreamedParquetFileOptions): Promise<StreamedParquetFile> {
    const folder = await mkdtemp(join(parquetTempRoot(), 'file-'));
    const inputPath = join(folder, 'input.csv');
    const outputPath = join(folder, 'output.parquet');
    let release: (() => void) | undefined;
    try {
      await run('mkfifo', ['-m', '600', inputPath, outputPath]);
      const outputFd = openSync(outputPath, constants.O_RDONLY | constants.O_NONBLOCK);
      const holdOutput = openSync(outputPath, constants.O_WRONLY | constants.O_NONBLOCK);
      const output = new Socket({ fd: outputFd, readable: true, writable: false });
      release = await acquireCopySlot();
      const stop = new AbortController();
      const copy = copyCsvToParquet(
        { columns: options.columns, metadata: options.metadata, input: inputPath, output: outputPath },
        AbortSignal.any([options.signal, stop.signal]),
      ).finally(release);
      const inputFd = openFd(inputPath, 'w');
      copy.catch(() => releaseWriterOpen(inputPath, inputFd));
      const input = new Socket({ fd: await inputFd, readable: false, writable: true });
      // Errors reach the writer through write() and finish(); this keeps a late one (EPIPE after a failed COPY) from being unhandled.
      input.on('error', () => undefined);
      const { upload, settled } = startFileUpload(options.store, options.naming, output, input, options.signal, options.onUploadFailure);
      const file = new StreamedParquetFile(folder, input, output, holdOutput, stop, copy, upload, settled);
      copy.then(
        () => file.releaseOutput(),
        (error: unknown) => {
          // The output must not end as if complete: the upload fails with the COPY's error.
          input.destroy();
          output.destroy(error as Error);
          file.releaseOutput();
        },
      );
      return file;
    } catch (error) {
      release?.();
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Appends typed CSV (whole records); returns a promise when the caller must wait before writing more. The input
   * fails (EPIPE) when DuckDB has stopped reading: the COPY's own error is then the one thrown.
   */
  write(data: Buffer): Promise<void> | undefined {
    if (this.input.destroyed) return this.copyFailure(this.input.errored);
    return this.input.write(data) ? undefined : drained(this.input).catch((error: unknown) => this.copyFailure(error));
  }

  /** Ends the CSV; resolves once DuckDB has written the whole file and it is stored, with the rows DuckDB wrote. */
  async finish(): Promise<{ stored: HashedObject; rows: number }> {
    this.input.end();
    try {
      const rows = await this.copy;
      return { stored: await this.upload, rows };
    } finally {
      await rm(this.folder, { recursive: true, force: true });
    }
  }

  /** Stops everything (DuckDB, the upload) and waits for both; the caller deletes what may have been stored. */
  async destroy(error: unknown): Promise<void> {
    this.stop.abort(error);
    this.input.destroy();
    this.output.destroy(error as Error);
    await this.copy.catch(() => undefined);
    await this.settled;
    this.releaseOutput();
    await rm(this.folder, { recursive: true, force: true });
  }

  /** The COPY's error when it failed, else `error` (the input's own). */
  private async copyFailure(error: unknown): Promise<never> {
    await this.copy;
    throw error ?? new Error('the input of the Parquet writer was closed');
  }

  /** Closes the write end held on the output: once DuckDB has closed its own, the output ends. */
  private releaseOutput(): void {
    if (this.holdOutput === undefined) return;
    closeSync(this.holdOutput);
    this.holdOutput = undefined;
  }
}

/**
 * Holds `fifo` open for reading until `opening` (a writer's open of it) has returned: that open waits for a reader,
 * and may not even have started yet (it runs on a thread of libuv's pool, perhaps all busy): a reader opened and
 * closed at once could come and go before it, and it would then wait for ever, holding its thread.
 */
function releaseWriterOpen(fifo: string, opening: Promise<number>): void {
  let reader: number;
  try {
    reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return; // Removed already: nothing waits on it.
  }
  void opening.then(
    () => closeSync(reader),
    () => closeSync(reader),
  );
}
