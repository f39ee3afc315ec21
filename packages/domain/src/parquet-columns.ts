/**
 * How each column of a report is typed in a Parquet file: one definition, read by the Parquet writer (the file's
 * schema) and by the manifest (what a loader is told). Values keep their exactness: decimals are Parquet DECIMALs
 * (never floats), instants are TIMESTAMP(MICROS, isAdjustedToUTC) (the zone is the reader's to apply; the
 * request's is in the file's key-value metadata). Every column is OPTIONAL in the file: the writer (DuckDB, see
 * the export package) writes no REQUIRED column (duckdb/duckdb#23051); which columns can hold NULL is `nullable`,
 * which the manifest states beside each column's type.
 */
import { cdrColumn, CDR_COLUMNS } from './cdr-columns';
import type { ReportRequest } from './report.types';
import { INTEGER_USAGE_METRICS } from './usage';

/** The Parquet types a report column takes. */
export type ParquetColumnType =
  | { kind: 'string' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  /** Microseconds since the epoch, an instant (isAdjustedToUTC). */
  | { kind: 'timestamp' }
  /** Days since the epoch (a calendar day, no zone). */
  | { kind: 'date' }
  /** An exact decimal: an integer scaled by 10^scale (see decimalPhysicalType for how it is stored). */
  | { kind: 'decimal'; precision: number; scale: number };

export interface ParquetColumn {
  name: string;
  type: ParquetColumnType;
  nullable: boolean;
}

/** What the manifest says of a Parquet column: its physical type, its logical type and its repetition. */
export interface ParquetTypeDescription {
  physical: 'BYTE_ARRAY' | 'INT32' | 'INT64' | 'FIXED_LEN_BYTE_ARRAY';
  /** Bytes of a FIXED_LEN_BYTE_ARRAY value; absent for the other physical types. */
  length?: number;
  /**
   * The Parquet LogicalType with its parameters: STRING, TIMESTAMP(MICROS,true), DATE, DECIMAL(20,8); null for a
   * plain INT32 or INT64, which the format defines as a signed integer.
   */
  logical: string | null;
  repetition: 'OPTIONAL';
}

/**
 * How a DECIMAL of `precision` digits is stored, as the writer does it: INT32 up to 9 digits, INT64 up to 18, a
 * 16-byte big-endian two's complement (FIXED_LEN_BYTE_ARRAY) up to 38.
 */
export function decimalPhysicalType(precision: number): Pick<ParquetTypeDescription, 'physical' | 'length'> {
  if (precision <= 9) return { physical: 'INT32' };
  if (precision <= 18) return { physical: 'INT64' };
  return { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16 };
}

function decimal(precision: number, scale: number): ParquetColumnType {
  return { kind: 'decimal', precision, scale };
}

/** price and total_price: the cdrs table holds at most 8 decimals and |value| < 10^12, so 20 digits hold them all. */
const PRICE = decimal(20, 8);
/** A usage total sums many prices: 38 digits (the widest decimal most readers take) leave room for any sum. */
const PRICE_TOTAL = decimal(38, 8);
/** answer_rate is rounded to 4 decimals and lies in [0, 1]. */
const RATE = decimal(5, 4);

/** The Parquet columns of a report's files, in file order. */
export function parquetColumns(request: ReportRequest): ParquetColumn[] {
  return request.fields.map((name) => (request.type === 'usage' ? usageColumn(name) : recordColumn(name)));
}

function recordColumn(name: string): ParquetColumn {
  const column = cdrColumn(name);
  const { nullable } = column;
  if (column.timestamp) return { name, type: { kind: 'timestamp' }, nullable };
  if (column.sqlType === 'integer') return { name, type: { kind: 'int32' }, nullable };
  if (column.sqlType === 'numeric') return { name, type: PRICE, nullable };
  return { name, type: { kind: 'string' }, nullable };
}

/**
 * A usage column: `day` is a DATE (the day in the request's time zone), `month` the text YYYY-MM, the other
 * dimensions strings, NULL where the records' column may be; integer metrics INT64 (sums of many records), the
 * decimal ones exact. answer_rate is NULL for a report without records (no dimensions, so one row over nothing).
 */
function usageColumn(name: string): ParquetColumn {
  if (name === 'day') return { name, type: { kind: 'date' }, nullable: false };
  if (name === 'month') return { name, type: { kind: 'string' }, nullable: false };
  if (INTEGER_USAGE_METRICS.has(name)) return { name, type: { kind: 'int64' }, nullable: false };
  if (name === 'total_price') return { name, type: PRICE_TOTAL, nullable: false };
  if (name === 'answer_rate') return { name, type: RATE, nullable: true };
  const column = CDR_COLUMNS.find((c) => c.name === name);
  if (!column) throw new Error(`unknown usage column ${name}`);
  return { name, type: { kind: 'string' }, nullable: column.nullable };
}

/** The physical and logical type of a column, as the manifest gives it. */
export function describeParquetType(column: ParquetColumn): ParquetTypeDescription {
  const repetition = 'OPTIONAL';
  const { type } = column;
  switch (type.kind) {
    case 'string':
      return { physical: 'BYTE_ARRAY', logical: 'STRING', repetition };
    case 'int32':
      return { physical: 'INT32', logical: null, repetition };
    case 'int64':
      return { physical: 'INT64', logical: null, repetition };
    case 'timestamp':
      return { physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition };
    case 'date':
      return { physical: 'INT32', logical: 'DATE', repetition };
    case 'decimal':
      return { ...decimalPhysicalType(type.precision), logical: `DECIMAL(${type.precision},${type.scale})`, repetition };
  }
}

/** The key of the file's key-value metadata that holds the request's IANA time zone. */
export const PARQUET_TIMEZONE_KEY = 'cdr_reports.timezone';
