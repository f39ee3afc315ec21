/**
 * Exact conversions from the typed CSV's text (see cdr-store's typed-csv-queries.ts) to the values the Parquet
 * writer stores. Nothing goes through a float: decimals become scaled bigints, timestamps whole microseconds.
 * A value that does not convert exactly throws rather than rounds: the file would not say what the table holds.
 */
import { UnrecoverableJobError, type ParquetColumnType } from '@cdr-reports/domain';

/** A value as the writer takes it for one column type. */
export type ParquetValue = string | number | bigint;

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** "0.0125" at scale 8 -> 1250000n. Throws on more significant decimals than `scale` or more than `precision` digits. */
export function decimalToScaled(text: string, precision: number, scale: number): bigint {
  const match = DECIMAL.exec(text);
  if (!match) throw new UnrecoverableJobError(`not a decimal: ${JSON.stringify(text)}`);
  const fraction = match[3] ?? '';
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) throw new UnrecoverableJobError(`${text} has more than ${scale} decimals`);
  let value = BigInt(match[2]! + fraction.slice(0, scale).padEnd(scale, '0'));
  if (value >= 10n ** BigInt(precision)) throw new UnrecoverableJobError(`${text} does not fit DECIMAL(${precision},${scale})`);
  if (match[1] === '-') value = -value;
  return value;
}

/** The shape the typed CSV writes every timestamp in: UTC, six fraction digits. */
const UTC_MICROS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

/**
 * "2026-03-10T09:00:00.123456Z" -> microseconds since the epoch, as a number: exact (every instant before the year
 * 2255 is below 2^53 microseconds), and the writer makes the INT64 of it.
 */
export function timestampToMicros(text: string): number {
  const match = UTC_MICROS.exec(text);
  if (!match) throw new UnrecoverableJobError(`not a UTC timestamp with microseconds: ${JSON.stringify(text)}`);
  const [, year, month, day, hour, minute, second, micros] = match;
  const millis = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const value = millis * 1000 + Number(micros);
  if (!Number.isSafeInteger(value)) throw new UnrecoverableJobError(`timestamp out of range: ${text}`);
  return value;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** "2026-03-10" -> days since 1970-01-01 (a DATE). */
export function dateToDays(text: string): number {
  const match = DAY.exec(text);
  if (!match) throw new UnrecoverableJobError(`not a date: ${JSON.stringify(text)}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
}

const INTEGER = /^-?\d+$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function toInt32(text: string): number {
  const value = Number(text);
  if (!INTEGER.test(text) || value < INT32_MIN || value > INT32_MAX) throw new UnrecoverableJobError(`not a 32-bit integer: ${JSON.stringify(text)}`);
  return value;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function toInt64(text: string): bigint {
  if (!INTEGER.test(text)) throw new UnrecoverableJobError(`not an integer: ${JSON.stringify(text)}`);
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) throw new UnrecoverableJobError(`not a 64-bit integer: ${text}`);
  return value;
}

/** The converter of one column type: the typed CSV's text to the writer's value. */
export function converterFor(type: ParquetColumnType): (text: string) => ParquetValue {
  switch (type.kind) {
    case 'string':
      return (text) => text;
    case 'int32':
      return toInt32;
    case 'int64':
      return toInt64;
    case 'timestamp':
      return timestampToMicros;
    case 'date':
      return dateToDays;
    case 'decimal': {
      const { precision, scale } = type;
      return (text) => decimalToScaled(text, precision, scale);
    }
  }
}
