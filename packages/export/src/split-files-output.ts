import { PassThrough, type Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Compression } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import { GzipBlocks } from './gzip-blocks';
import { startFileUpload, type HashedObject } from './hashed-upload';
import { createCompressor, splitFileNaming, type ReportFileNaming } from './report-file';
import { deleteStored, type ExportedFile, type ReportOutput } from './report-output';
import type { RecordFraming } from './record-framing';
import { RowBlocker, type RowBlock } from './row-blocks';
import { SplitFileSink, type OpenFile } from './split-file-sink';
import { splitBlockBytes, zipFileBudget, type FileSplitLimits } from './split-limits';
import { drained } from './stream-drained';

export interface SplitFilesOptions {
  store: ObjectStore;
  /** The naming of the report as one file: split files take its folder and name, with _part00001... */
  naming: ReportFileNaming;
  compression: Compression;
  level: number;
  /** Checked by checkLimits. */
  limits: FileSplitLimits;
  /** How records end: quote-aware CSV, or one per line (JSON Lines). */
  framing: RecordFraming;
  /** Whether the stream starts with a header row, repeated at the start of every file (CSV); JSON Lines has none. */
  header: boolean;
  signal: AbortSignal;
  logger: Logger;
  /** gzip members compressed at once. Default 3, as ParallelGzip. */
  parallel?: number;
}

/** The file being uploaded: what a failure must tear down and wait for. */
interface Upload {
  input: NodeJS.WritableStream & PassThrough;
  upload: Promise<HashedObject>;
  settled: Promise<void>;
}

/**
 * A report as several files, each complete alone (its own header row in CSV, whole rows, a valid gzip or zip) and
 * within the limits. gzip: rows are cut into blocks, compressed as gzip members in parallel, and packed in
 * order into files by compressed size, so files fill up to the byte limit (gzip members concatenate; each
 * file starts with the header compressed alone). zip: archiver streams one entry per file, whose compressed
 * size is known only afterwards, so files are cut on uncompressed bytes (see zipFileBudget) and come out
 * smaller than the limit. One upload at a time; memory is the blocks in flight plus the one being filled.
 */
export class SplitFilesOutput implements ReportOutput {
  private readonly blocker: RowBlocker;
  private readonly sink: SplitFileSink;
  private readonly gzip: GzipBlocks | undefined;
  /** Every file this export has started to store: all are deleted when it fails. */
  private readonly keys: string[] = [];
  private current: Upload | undefined;
  private uploadError: unknown;
  private headerMember: Buffer | undefined;

  constructor(private readonly options: SplitFilesOptions) {
    const { limits, compression, framing, header } = options;
    const maxRows = limits.maxFileRows ?? Infinity;
    const blockBytes = splitBlockBytes(limits);
    if (compression === 'gzip') {
      this.blocker = new RowBlocker({ blockBytes, fileRows: limits.maxFileRows, framing, header });
      this.sink = new SplitFileSink({
        limits: { maxRows, maxCost: limits.maxFileBytes ?? Infinity },
        costUnit: 'compressed bytes',
        open: (index) => this.openGzip(index),
      });
      this.gzip = new GzipBlocks({ level: options.level, parallel: options.parallel ?? 3 }, ({ member, rows }) =>
        this.sink.append({ data: member, rows, cost: member.length }),
      );
    } else {
      const budget = limits.maxFileBytes === undefined ? undefined : zipFileBudget(limits.maxFileBytes, splitFileNaming(options.naming, 1).entryName ?? '');
      // zip files are planned exactly here, on uncompressed bytes: the sink, measuring the same, cuts where the plan does.
      this.blocker = new RowBlocker({ blockBytes, fileRows: limits.maxFileRows, fileBytes: budget, framing, header });
      this.sink = new SplitFileSink({
        limits: { maxRows, maxCost: budget ?? Infinity },
        costUnit: 'uncompressed bytes (with zip overhead)',
        open: (index) => this.openZip(index),
      });
    }
  }

  get records(): number {
    return this.blocker.records;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    const blocks = this.blocker.push(chunk);
    return blocks.length === 0 ? undefined : this.place(blocks);
  }

  async finish(): Promise<ExportedFile[]> {
    await this.place(this.blocker.end());
    await this.gzip?.flush();
    const stored = await this.sink.end();
    return stored.map(({ index, rows, size, sha256 }) => {
      const naming = splitFileNaming(this.options.naming, index);
      return { key: naming.key, name: naming.name, rows, size_bytes: size, sha256, content_type: naming.contentType };
    });
  }

  async abort(error: unknown): Promise<unknown> {
    // Taken before the upload is torn down below, which fails it too.
    const cause = this.uploadError ?? error;
    const current = this.current;
    if (current) {
      current.input.destroy(error as Error);
      await current.settled;
    }
    await deleteStored(this.options.store, this.keys, this.options.logger);
    return cause;
  }

  private async place(blocks: RowBlock[]): Promise<void> {
    for (const block of blocks) {
      if (this.gzip) await this.gzip.add(block);
      else await this.sink.append({ data: block.data, rows: block.rows, cost: block.data.length });
    }
  }

  private openGzip(index: number): OpenFile {
    // The same few hundred bytes start every file: compressed once, synchronously (microseconds). Without a header
    // (JSON Lines) it is an empty member of 20 bytes, which keeps a file of no rows (an empty report) a valid gzip file.
    this.headerMember ??= gzipSync(this.blocker.header ?? Buffer.alloc(0), { level: this.options.level });
    const input = new PassThrough();
    input.write(this.headerMember);
    return this.open(index, input, input, this.headerMember.length);
  }

  private openZip(index: number): OpenFile {
    const compressor = createCompressor('zip', this.options.level, splitFileNaming(this.options.naming, index).entryName);
    const header = this.blocker.header ?? Buffer.alloc(0);
    compressor.input.write(header);
    return this.open(index, compressor.input, compressor.output, header.length);
  }

  private open(index: number, input: Upload['input'], body: Readable, headerCost: number): OpenFile {
    const naming = splitFileNaming(this.options.naming, index);
    this.keys.push(naming.key);
    const { upload, settled } = startFileUpload(this.options.store, naming, body, input, this.options.signal, (error) => {
      this.uploadError ??= error;
    });
    const current: Upload = { input, upload, settled };
    this.current = current;
    return {
      headerCost,
      write: (data) => (input.write(data) ? undefined : drained(input)),
      finish: async () => {
        input.end();
        const stored = await upload;
        this.current = undefined;
        return stored;
      },
    };
  }
}
