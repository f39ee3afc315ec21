import { ExportIntegrityError } from '@cdr-reports/domain';
import { recordCounter, type RecordCounter, type RecordFraming } from './record-framing';

/** Whole records (CSV or JSON Lines), each with its newline: what a split file is made of. */
export interface RowBlock {
  data: Buffer;
  rows: number;
}

export interface RowBlockerOptions {
  /** Most bytes of one block; a block is larger only when one record alone is. */
  blockBytes: number;
  /** Most rows of one file: no block crosses a file's row limit. Default: no limit. */
  fileRows?: number;
  /**
   * Most bytes of one file, its header row included, where files are cut on uncompressed bytes (zip): no block
   * crosses that limit either. Default: no limit (gzip files are cut on compressed bytes, by the file sink).
   */
  fileBytes?: number;
  /** How records end: quote-aware CSV, or one per line (JSON Lines). Default csv. */
  framing?: RecordFraming;
  /** Whether the stream starts with a header row, which every file repeats. Default true. */
  header?: boolean;
}

/**
 * Cuts a CSV byte stream (the header row first) into blocks of whole records, at the record boundaries the
 * quote-aware CsvRecordCounter finds (a quoted field may hold newlines); a JSON Lines stream (framing `lines`, no
 * header) at every newline. The header row is kept apart, since every split file starts with it. Blocks follow a
 * plan of files: a block never crosses the point where the plan starts a new file, so a file sink that packs whole
 * blocks can cut exactly there. The plan counts rows (and, for zip, uncompressed bytes); gzip's byte limit is on
 * compressed sizes, known only downstream.
 *
 * Memory: the block being filled (about `blockBytes`) and the start of the record under way.
 */
export class RowBlocker {
  /** The header row with its newline, once it has been read; empty when the stream has none. */
  header: Buffer | undefined;
  private readonly counter: RecordCounter;
  /** Complete records of the block being filled. */
  private pieces: Buffer[] = [];
  /** The start of the record under way, from earlier chunks. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private blockBytes = 0;
  private blockRows = 0;
  private fileBytes = 0;
  private fileRows = 0;

  constructor(private readonly options: RowBlockerOptions) {
    this.counter = recordCounter(options.framing ?? 'csv');
    if (options.header === false) this.header = Buffer.alloc(0);
  }

  /** Records read so far, the header row included (the integrity check compares it with the rows written). */
  get records(): number {
    return this.counter.records;
  }

  /** Takes the next chunk of CSV; returns the blocks it completed, in order. */
  push(chunk: Buffer): RowBlock[] {
    const blocks: RowBlock[] = [];
    const { blockBytes, fileRows, fileBytes } = this.options;
    // chunk[from, at) holds complete records not yet added to `pieces`: one piece per cut, not one per record.
    let from = 0;
    let at = 0;
    for (let end = this.counter.nextRecordEnd(chunk, at); end !== -1; at = end, end = this.counter.nextRecordEnd(chunk, at)) {
      const size = this.partialBytes + end - at;
      if (this.header === undefined) {
        this.header = Buffer.concat([...this.partial, chunk.subarray(at, end)], size);
        this.partial = [];
        this.partialBytes = 0;
        this.fileBytes = size;
        from = end;
        continue;
      }
      const fileFull = fileBytes !== undefined && this.fileRows > 0 && this.fileBytes + size > fileBytes;
      if (this.blockRows > 0 && (fileFull || this.blockBytes + size > blockBytes)) {
        this.keep(chunk.subarray(from, at));
        from = at;
        blocks.push(this.cut());
      }
      if (fileFull) this.startFile();
      if (this.partial.length > 0) {
        // Only the first record of a chunk has a start in earlier chunks: `from` is 0 here, order is kept.
        this.pieces.push(...this.partial);
        this.partial = [];
        this.partialBytes = 0;
      }
      this.blockBytes += size;
      this.blockRows++;
      this.fileBytes += size;
      this.fileRows++;
      if (fileRows !== undefined && this.fileRows >= fileRows) {
        this.keep(chunk.subarray(from, end));
        from = end;
        blocks.push(this.cut());
        this.startFile();
      }
    }
    this.keep(chunk.subarray(from, at));
    if (at < chunk.length) {
      this.partial.push(chunk.subarray(at));
      this.partialBytes += chunk.length - at;
    }
    return blocks;
  }

  /** The CSV has ended: returns the last block, if any rows are left. */
  end(): RowBlock[] {
    // COPY ends every record with a newline: bytes after the last one mean the stream was cut short.
    if (this.partialBytes > 0) throw new ExportIntegrityError(`the CSV ends inside a record (${this.partialBytes} bytes after the last record)`);
    return this.blockRows > 0 ? [this.cut()] : [];
  }

  private keep(piece: Buffer): void {
    if (piece.length > 0) this.pieces.push(piece);
  }

  private cut(): RowBlock {
    const block = { data: Buffer.concat(this.pieces, this.blockBytes), rows: this.blockRows };
    this.pieces = [];
    this.blockBytes = 0;
    this.blockRows = 0;
    return block;
  }

  private startFile(): void {
    this.fileRows = 0;
    this.fileBytes = this.header?.length ?? 0;
  }
}
