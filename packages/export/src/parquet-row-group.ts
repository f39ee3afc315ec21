import { UnrecoverableJobError, type ParquetColumn } from '@cdr-reports/domain';
import { converterFor, type ParquetValue } from './parquet-values';
import type { TypedField } from './parquet-typed-csv-parser';

/**
 * Upper bounds on what a row group and a footer can take in a file, known before anything is encoded: what lets a
 * file split by bytes be closed before it could pass its limit, whatever the data compresses to.
 *
 * Per value, before compression: a string takes its UTF-8 bytes plus a 4-byte length in the dictionary or the
 * plain page, plus a dictionary index (at most 4 bytes); a fixed-width value its width plus an index; a nullable
 * value one more byte at most for its definition level. zstd never grows its input by more than 1/256 plus a few
 * bytes per page (ZSTD_COMPRESSBOUND); the page and chunk headers (with their statistics, 16 bytes per min/max
 * at most) are counted per column and per started MiB (hyparquet-writer's page size).
 */
const INDEX_BYTES = 4;
const LENGTH_BYTES = 4;
const FIXED_BYTES: Record<ParquetColumn['type']['kind'], number> = { string: 0, int32: 4, int64: 8, timestamp: 8, date: 4, decimal: 0 };
/** Headers and statistics of a column chunk's dictionary page and first data page, and zstd's frame overhead on each. */
const CHUNK_OVERHEAD = 1024;
/** Each further data page (one per uncompressed MiB). */
const PAGE_OVERHEAD = 256;
const PAGE_BYTES = 1024 * 1024;

/** The most bytes a row group whose values take `valueBytes` (as rowBound counts them) can add to a file. */
export function rowGroupBound(valueBytes: number, columns: number): number {
  const pages = Math.ceil(valueBytes / PAGE_BYTES);
  return Math.ceil(valueBytes * (1 + 1 / 128)) + columns * (CHUNK_OVERHEAD + pages * PAGE_OVERHEAD);
}

/**
 * The most bytes the footer of a file with `rowGroups` row groups can take: the schema and key-value metadata, and
 * per column chunk its metadata (path, encodings, offsets, sizes, statistics truncated to 16 bytes) and offset
 * index. Measured at about 85 bytes per chunk for the CDR columns, names included, and 600 bytes for the rest
 * (test/parquet-bounds.test.ts); about twice that is kept.
 */
export function footerBound(columns: readonly ParquetColumn[], rowGroups: number, metadataBytes: number): number {
  const names = columns.reduce((total, column) => total + Buffer.byteLength(column.name), 0);
  const perRowGroup = 64 + columns.length * 160 + 2 * names;
  return 4096 + metadataBytes + 2 * names + rowGroups * perRowGroup;
}

/** The rows of one row group being gathered, converted column by column, with the bound of their bytes. */
export class RowGroupBuffer {
  private values: Array<Array<ParquetValue | null>>;
  private readonly converters: Array<(text: string) => ParquetValue>;
  private readonly fixed: number[];
  rows = 0;
  /** Bytes of the values gathered so far, as rowBound counts them. */
  valueBytes = 0;

  constructor(private readonly columns: readonly ParquetColumn[]) {
    this.values = columns.map(() => []);
    this.converters = columns.map((column) => converterFor(column.type));
    this.fixed = columns.map(({ type, nullable }) => {
      const width = type.kind === 'decimal' ? type.bytes : FIXED_BYTES[type.kind];
      return (type.kind === 'string' ? LENGTH_BYTES : width) + INDEX_BYTES + (nullable ? 1 : 0);
    });
  }

  /** What one record adds to valueBytes. */
  rowBound(fields: readonly TypedField[]): number {
    let bytes = 0;
    for (let c = 0; c < fields.length; c++) {
      const field = fields[c];
      bytes += this.fixed[c]!;
      if (field != null && this.columns[c]!.type.kind === 'string') bytes += Buffer.byteLength(field);
    }
    return bytes;
  }

  /** Converts and keeps one record (`bound` from rowBound). */
  add(fields: readonly TypedField[], bound: number): void {
    for (let c = 0; c < fields.length; c++) {
      const field = fields[c]!;
      if (field === null) {
        const column = this.columns[c]!;
        if (!column.nullable) throw new UnrecoverableJobError(`NULL in column ${column.name}, which the Parquet schema makes REQUIRED`);
        this.values[c]!.push(null);
      } else {
        this.values[c]!.push(this.converters[c]!(field));
      }
    }
    this.rows++;
    this.valueBytes += bound;
  }

  /** Hands over the rows gathered, and starts the next row group. */
  take(): { values: Array<Array<ParquetValue | null>>; rows: number; valueBytes: number } {
    const group = { values: this.values, rows: this.rows, valueBytes: this.valueBytes };
    this.values = this.columns.map(() => []);
    this.rows = 0;
    this.valueBytes = 0;
    return group;
  }
}
