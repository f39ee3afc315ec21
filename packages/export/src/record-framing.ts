import type { Format } from '@cdr-reports/domain';
import { CsvRecordCounter } from './csv-record-counter';
import { LineCounter } from './line-counter';

/**
 * How records are delimited in a report's bytes: `csv`, a newline ends a record unless it is inside a quoted field
 * (RFC 4180); `lines`, every newline ends one (JSON Lines).
 */
export type RecordFraming = 'csv' | 'lines';

/** Counts records as bytes pass and finds where each ends: what the outputs count and the file splitter cuts at. */
export interface RecordCounter {
  /** Records whose end has been seen so far (a header row included). */
  readonly records: number;
  push(chunk: Buffer): void;
  /** The offset just past the end of the record under way in `chunk` from `from` (and counts it), or -1 when the chunk ends first. */
  nextRecordEnd(chunk: Buffer, from: number): number;
}

export function recordCounter(framing: RecordFraming): RecordCounter {
  return framing === 'lines' ? new LineCounter() : new CsvRecordCounter();
}

/** How a report file of `format` is laid out: its framing, and whether it (and each split file) starts with a header row. */
export function recordLayout(format: Format): { framing: RecordFraming; header: boolean } {
  if (format === 'jsonl') return { framing: 'lines', header: false };
  // The typed CSV a Parquet file is written from has no header: the file's schema names the columns.
  if (format === 'parquet') return { framing: 'csv', header: false };
  return { framing: 'csv', header: true };
}
