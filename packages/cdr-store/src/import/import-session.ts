/**
 * The bookkeeping of one import: every record read is validated and then either queued for loading or
 * rejected, so that rows read = inserted + already present + rejected, always. Without skip-invalid the
 * first bad record dooms the input: nothing more is loaded and the caller rolls back.
 */
import { validateCdrRecord, type CdrRecord, type CdrRecordFacts } from '@cdr-reports/domain';
import type { CdrBatchLoader } from './cdr-batch-loader';
import { encodeCopyRow } from './copy-format';
import type { RejectsWriter } from './rejects-writer';

/** A bad record (or a problem with the whole input, then at the line where it was found). */
export interface CdrRowError {
  /** Physical line (1-based) where the record starts; for generated records, their ordinal. */
  line: number;
  reason: string;
}

/** Gives the original text of the record being handled, only when it is needed (for a rejects file). */
export interface RawRecordText {
  rawRecord(): string;
}

export class ImportSession {
  rowsRead = 0;
  rejected = 0;
  readonly errors: CdrRowError[] = [];
  private readonly facts: CdrRecordFacts = { startTimeMs: 0 };
  /** Why the input as a whole cannot be loaded (bad header, corrupt gzip...), when it cannot. */
  fatal: string | undefined;

  constructor(
    private readonly loader: CdrBatchLoader,
    private readonly rejects: RejectsWriter | undefined,
    private readonly maxErrors: number,
  ) {}

  /** True once nothing more will be loaded: a problem with the whole input, or a bad row without skip-invalid. */
  get doomed(): boolean {
    return this.fatal !== undefined || (this.rejected > 0 && this.rejects === undefined);
  }

  /** Validates a record and queues it for loading, or rejects it. */
  accept(record: CdrRecord, line: number, raw: RawRecordText): void {
    this.rowsRead++;
    const problem = validateCdrRecord(record, this.facts);
    if (problem !== undefined) {
      this.reject(line, `${problem.name}: ${problem.reason}`, raw);
      return;
    }
    if (this.doomed) return;
    this.loader.add(encodeCopyRow(record), this.facts.startTimeMs);
  }

  /** A record that could not be read as one (broken quoting, wrong field count, not JSON). */
  unreadable(line: number, reason: string, raw: RawRecordText): void {
    this.rowsRead++;
    this.reject(line, reason, raw);
  }

  /** The whole input is rejected, for a reason found at `line`. */
  fail(line: number, reason: string): void {
    this.fatal = reason;
    this.errors.unshift({ line, reason });
    if (this.errors.length > this.maxErrors) this.errors.pop();
  }

  /**
   * Between chunks of input: lets a full batch go to the database and buffered rejects to their file, then
   * gives the event loop a turn. Without that turn, input that is at hand (records made in memory, file data
   * read ahead) would be processed on and on while the batch being copied waits to be written to the socket.
   */
  async afterChunk(): Promise<void> {
    if (!this.doomed) await this.loader.flushIfFull();
    await this.rejects?.flushIfFull();
    await new Promise((resolve) => setImmediate(resolve));
  }

  private reject(line: number, reason: string, raw: RawRecordText): void {
    this.rejected++;
    if (this.errors.length < this.maxErrors) this.errors.push({ line, reason });
    this.rejects?.add({ line, reason, row: raw.rawRecord() });
  }
}
