import type { Compression, ReportFileEntry } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import { attachmentDisposition, type ObjectStore } from '@cdr-reports/object-store';
import { putHashed, type HashedObject } from './hashed-upload';
import { recordCounter, type RecordCounter, type RecordFraming } from './record-framing';
import { createCompressor, type ReportFileNaming } from './report-file';
import { drained } from './stream-drained';

/** One stored file of an export, in order: the domain's report file entry. */
export type ExportedFile = ReportFileEntry;

/** Where the exporter writes a report's CSV (or JSON Lines): one file, or several split by limits. */
export interface ReportOutput {
  /** Takes the next CSV bytes; returns a promise when the caller must wait before writing more. */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Records written so far, the header row included (if the format has one). */
  readonly records: number;
  /** Ends the CSV; resolves once every file is stored, listing them in order. */
  finish(): Promise<ExportedFile[]>;
  /**
   * Stops after a failure (or an abort) at any point, even after finish: no file of this export stays stored.
   * Resolves with the error to report: the upload's own failure when there was one, else `error`.
   */
  abort(error: unknown): Promise<unknown>;
}

export interface SingleFileOptions {
  store: ObjectStore;
  naming: ReportFileNaming;
  /** Where it is stored: naming.key, or a fan-out part's key. */
  key: string;
  compression: Compression;
  level: number;
  /** Whether the file starts with a header row (not counted in the file's rows): CSV does, JSON Lines does not. */
  header: boolean;
  /** How records are counted: quote-aware CSV, or one per line (JSON Lines). */
  framing: RecordFraming;
  signal: AbortSignal;
  logger: Logger;
}

/** The report as one file (or one fan-out part), compressed and uploaded as it streams. */
export class SingleFileOutput implements ReportOutput {
  private readonly counter: RecordCounter;
  private readonly compressor;
  private readonly upload: Promise<HashedObject>;
  private readonly uploadFailure: Promise<void>;
  private uploadError: unknown;

  constructor(private readonly options: SingleFileOptions) {
    const { naming } = options;
    this.counter = recordCounter(options.framing);
    this.compressor = createCompressor(options.compression, options.level, naming.entryName);
    this.upload = putHashed(options.store, options.key, this.compressor.output, {
      contentType: naming.contentType,
      contentDisposition: attachmentDisposition(naming.name),
      signal: options.signal,
    });
    // The upload may fail while we are still writing (S3 down): stop writing with its error, which is then the
    // report's failure (the compressor's own error only echoes it).
    this.uploadFailure = this.upload.then(
      () => undefined,
      (error: unknown) => {
        this.uploadError = error;
        this.compressor.input.destroy(error as Error);
      },
    );
  }

  get records(): number {
    return this.counter.records;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    this.counter.push(chunk);
    return this.compressor.input.write(chunk) ? undefined : drained(this.compressor.input);
  }

  async finish(): Promise<ExportedFile[]> {
    this.compressor.input.end();
    const stored = await this.upload;
    const { naming } = this.options;
    const rows = this.counter.records - (this.options.header ? 1 : 0);
    return [{ key: stored.key, name: naming.name, rows, size_bytes: stored.size, sha256: stored.sha256, content_type: naming.contentType }];
  }

  async abort(error: unknown): Promise<unknown> {
    // Taken before the upload is torn down below, which fails it too.
    const cause = this.uploadError ?? error;
    this.compressor.input.destroy(error as Error);
    await this.uploadFailure;
    // Stored already (the failure came after finish): a file the export does not stand by must not stay.
    if (await this.upload.then(() => true, () => false)) await deleteStored(this.options.store, [this.options.key], this.options.logger);
    return cause;
  }
}

/**
 * Deletes the files of a failed export, all of them even when one delete fails: a partial set must never be
 * presented. A delete that fails is logged; the bucket's lifecycle rule removes the object later.
 */
export async function deleteStored(store: ObjectStore, keys: readonly string[], logger: Logger): Promise<void> {
  for (const key of keys) {
    await store.delete(key).catch((error: unknown) => logger.warn({ err: error, key }, 'a file of a failed export could not be deleted'));
  }
}
