import { UnrecoverableJobError } from '@cdr-reports/domain';

/**
 * What one file may hold. `cost` is the file's size in the unit its limit is checked in: compressed bytes for
 * gzip (members are complete before they are placed), uncompressed bytes plus worst-case overhead for zip.
 */
export interface FileLimits {
  maxRows: number;
  maxCost: number;
}

/** A file's or a block's rows and cost. */
export interface Measure {
  rows: number;
  cost: number;
}

/** Whether the next block still fits in the current file, or starts the next one. */
export function placeBlock(file: Measure, block: Measure, limits: FileLimits): 'append' | 'next-file' {
  return file.rows + block.rows <= limits.maxRows && file.cost + block.cost <= limits.maxCost ? 'append' : 'next-file';
}

/** One split file being written and uploaded. */
export interface OpenFile {
  /** The cost of the header the file starts with (already written). */
  readonly headerCost: number;
  /** Appends bytes; returns a promise when the caller must wait before writing more. */
  write(data: Buffer): Promise<void> | undefined;
  /** Ends the file and resolves once it is stored. */
  finish(): Promise<{ size: number; sha256: string }>;
}

export interface StoredSplitFile {
  /** From 1. */
  index: number;
  rows: number;
  size: number;
  sha256: string;
}

export interface SplitFileSinkOptions {
  limits: FileLimits;
  /** What `cost` counts, for the error message of a block that fits in no file. */
  costUnit: string;
  /** Opens file `index` (from 1) with its header written. Called only once the previous file is stored. */
  open(index: number): OpenFile;
}

/**
 * Packs blocks, in order, into files that each stay within the limits: when the next block would take the
 * current file past its rows or its cost, the file is finished (its upload completes) and the next one is
 * opened, starting with its own header. One file is open at a time; nothing here holds a block once written.
 */
export class SplitFileSink {
  private current: (Measure & { file: OpenFile; index: number }) | undefined;
  private readonly stored: StoredSplitFile[] = [];

  constructor(private readonly options: SplitFileSinkOptions) {}

  async append(block: Measure & { data: Buffer }): Promise<void> {
    if (block.rows === 0) return;
    let current = this.current ?? this.openNext();
    if (placeBlock(current, block, this.options.limits) === 'next-file') {
      if (current.rows === 0) throw this.tooLarge(block, current.cost);
      await this.finishCurrent();
      current = this.openNext();
      if (placeBlock(current, block, this.options.limits) === 'next-file') throw this.tooLarge(block, current.cost);
    }
    current.rows += block.rows;
    current.cost += block.cost;
    const wait = current.file.write(block.data);
    if (wait) await wait;
  }

  /** Finishes the last file (a report without rows still gets one, with its header) and lists every file stored. */
  async end(): Promise<StoredSplitFile[]> {
    if (!this.current) this.openNext();
    await this.finishCurrent();
    return this.stored;
  }

  private openNext(): Measure & { file: OpenFile; index: number } {
    const index = this.stored.length + 1;
    const file = this.options.open(index);
    this.current = { file, index, rows: 0, cost: file.headerCost };
    return this.current;
  }

  private async finishCurrent(): Promise<void> {
    const { file, index, rows } = this.current!;
    this.current = undefined;
    const { size, sha256 } = await file.finish();
    this.stored.push({ index, rows, size, sha256 });
  }

  // A block is at most half a file's limit, so only one record too large for any file gets here: rows are never cut.
  private tooLarge(block: Measure, headerCost: number): UnrecoverableJobError {
    const { maxCost } = this.options.limits;
    return new UnrecoverableJobError(
      `${block.rows} CSV row(s) take ${block.cost} ${this.options.costUnit}, more than a file limited to ${maxCost} holds after its header (${headerCost}); rows are never cut across files`,
    );
  }
}
