/**
 * Validation of canonical CDR records (one row of an import file), as pure functions.
 *
 * The rules follow from how the record is stored and reported: every value must load into the cdrs table
 * unchanged (no rounding, no silent conversion), and structured columns are written verbatim into reports,
 * so they are held to character sets that cannot start a spreadsheet formula.
 */
import { ACCOUNT_ID_PATTERN, CDR_COLUMN_NAMES, CDR_COLUMNS, DIRECTIONS, PRODUCTS, statusesFor, type CdrRecord } from './cdr-columns';
import type { InvalidParam } from './errors';
import { ISO_COUNTRY_CODES, ISO_CURRENCY_CODES } from './iso-codes';

/** An instant parsed from RFC 3339 text, exact to the microsecond. */
export interface Rfc3339Instant {
  /** Milliseconds since 1970-01-01T00:00:00Z. */
  epochMs: number;
  /** Microseconds past `epochMs`, 0-999. */
  micros: number;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// The accounts table's own rule: a record for any other id could never be reported on.
const ACCOUNT_ID = ACCOUNT_ID_PATTERN;
const E164 = /^\+[1-9]\d{1,14}$/;
// GSM alphanumeric sender ids are at most 11 characters; digits-only values are short codes.
const SENDER_ID = /^[A-Za-z0-9][A-Za-z0-9 ]{0,10}$/;
/** RFC 3339 with an offset (Z or ±hh:mm), seconds required, up to microseconds: what every timestamp of the API must be. */
export const RFC3339_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const NON_NEGATIVE_INTEGER = /^\d{1,10}$/;
const DECIMAL = /^-?\d{1,12}(?:\.\d{1,8})?$/;
const COUNTRY = /^[A-Z]{2}$/;
const CURRENCY = /^[A-Z]{3}$/;
// Mobile country code (3 digits) and mobile network code (2 or 3 digits), e.g. 23415.
const MCC_MNC = /^\d{5,6}$/;
// Q.850 / SIP cause names or numbers (NORMAL_CLEARING, 16, 486); never a leading formula character.
const HANGUP_CAUSE = /^[A-Za-z0-9][A-Za-z0-9 _.:()/-]{0,63}$/;
// NUL cannot be stored in a PostgreSQL text value; a lone surrogate would be silently replaced by U+FFFD in UTF-8.
const UNSTORABLE_TEXT = /[\0\p{Cs}]/u;

const INT4_MAX = 2_147_483_647;
// Before the Unix epoch a CDR timestamp is a corrupted value (0 read as a year, 1 BC...), not a call.
const MIN_EPOCH_MS = 0;
const MAX_EPOCH_MS = Date.UTC(10000, 0, 1);

// Module-local copies of the catalog: the hot path reads no imported binding (a getter once compiled to CommonJS).
const REQUIRED_NAMES: readonly string[] = CDR_COLUMNS.filter((c) => !c.nullable).map((c) => c.name);
const REQUIRED: ReadonlySet<string> = new Set(REQUIRED_NAMES);
const CANONICAL: ReadonlySet<string> = new Set(CDR_COLUMN_NAMES);
const DIRECTION_SET: ReadonlySet<string> = new Set(DIRECTIONS);
const STATUSES_BY_PRODUCT: ReadonlyMap<string, ReadonlySet<string>> = new Map(PRODUCTS.map((p) => [p, new Set(statusesFor(p))]));

/** Shows a rejected value in a reason, shortened so one bad cell cannot flood an error report. */
function shown(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

const problem = (name: string, reason: string): InvalidParam => ({ name, reason });

/** Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// parseEpochMs leaves the sub-millisecond microseconds of the instant it parsed here, so the hot path
// allocates nothing per timestamp.
let parsedMicros = 0;

/** Two digits at `at` as a number, or NaN. */
function twoDigits(value: string, at: number): number {
  const a = value.charCodeAt(at) - 48;
  const b = value.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * The epoch milliseconds of an RFC 3339 date-time (microseconds in parsedMicros), or NaN when the text is not
 * one, or not a real instant in range. Hand-written over char codes: it runs three times per imported record.
 */
function parseEpochMs(value: string): number {
  const length = value.length;
  if (length < 20 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) {
    return NaN;
  }
  const t = value.charCodeAt(10);
  if (t !== 84 && t !== 116) return NaN;
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const hour = twoDigits(value, 11);
  const minute = twoDigits(value, 14);
  const second = twoDigits(value, 17);
  // NaN fails every comparison, so a non-digit anywhere above ends up here too.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59)) {
    return NaN;
  }
  let at = 19;
  let micros = 0;
  if (value.charCodeAt(at) === 46) {
    const start = ++at;
    while (at < length && at - start < 7) {
      const digit = value.charCodeAt(at) - 48;
      if (digit < 0 || digit > 9) break;
      micros = micros * 10 + digit;
      at++;
    }
    const count = at - start;
    if (count === 0 || count > 6) return NaN;
    for (let i = count; i < 6; i++) micros *= 10;
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  if (zone === 90 || zone === 122) {
    if (at + 1 !== length) return NaN;
  } else if ((zone === 43 || zone === 45) && at + 6 === length && value.charCodeAt(at + 3) === 58) {
    const offsetHours = twoDigits(value, at + 1);
    const offsetMins = twoDigits(value, at + 4);
    if (!(offsetHours <= 23 && offsetMins <= 59)) return NaN;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return NaN;
  }
  const epochMs =
    daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + Math.floor(micros / 1000);
  if (!(epochMs >= MIN_EPOCH_MS && epochMs < MAX_EPOCH_MS)) return NaN;
  parsedMicros = micros % 1000;
  return epochMs;
}

/**
 * Parses an RFC 3339 date-time with an offset (`Z` or `±hh:mm`) and at most 6 fractional digits into an instant.
 * Returns undefined for anything else, including impossible calendar dates (2026-02-30), leap seconds
 * (PostgreSQL would silently roll them into the next minute) and instants outside 1970-01-01..9999-12-31 UTC.
 */
export function parseRfc3339(value: string): Rfc3339Instant | undefined {
  const epochMs = parseEpochMs(value);
  return Number.isNaN(epochMs) ? undefined : { epochMs, micros: parsedMicros };
}

/** True for an account id as the accounts table allows it: 1-64 letters, digits, `_`, `.`, `-`. */
export function isCdrAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

/** Negative when `a` is before `b`, 0 when equal, positive when after. */
export function compareInstants(a: Rfc3339Instant, b: Rfc3339Instant): number {
  return a.epochMs !== b.epochMs ? a.epochMs - b.epochMs : a.micros - b.micros;
}

/** True for a decimal that the cdrs table holds exactly: up to 12 integer and 8 fractional digits, optional minus. */
export function isCdrDecimal(value: string): boolean {
  return DECIMAL.test(value);
}

const TIMESTAMP_RULE = 'must be an RFC 3339 timestamp with an offset, like 2026-03-01T10:15:00Z or 2026-03-01T11:15:00.25+01:00';

function timestampProblem(name: string, value: string): InvalidParam {
  const leapSecond = /T\d{2}:\d{2}:60/i.test(value);
  if (leapSecond) return problem(name, `${shown(value)}: leap seconds are not accepted`);
  if (/\.\d{7,}/.test(value)) return problem(name, `${shown(value)}: at most 6 fractional digits (microseconds)`);
  if (RFC3339_PATTERN.test(value)) return problem(name, `${shown(value)} is not a real date and time between 1970 and 9999 (UTC)`);
  return problem(name, `${shown(value)} ${TIMESTAMP_RULE}`);
}

function integerProblem(name: string, value: string): InvalidParam | undefined {
  if (NON_NEGATIVE_INTEGER.test(value) && Number(value) <= INT4_MAX) return undefined;
  return problem(name, `${shown(value)} must be a whole number of seconds from 0 to ${INT4_MAX}`);
}

function addressProblem(name: string, value: string): InvalidParam | undefined {
  if (E164.test(value) || SENDER_ID.test(value)) return undefined;
  // The value itself is left out: phone numbers do not belong in error reports and logs.
  return problem(name, 'must be an E.164 number (+ and 2-15 digits) or an alphanumeric sender id of up to 11 characters');
}

function notBeforeStartProblem(name: string, value: string | null | undefined, startMs: number, startMicros: number): InvalidParam | undefined {
  if (value === null || value === undefined) return undefined;
  const epochMs = parseEpochMs(value);
  if (Number.isNaN(epochMs)) return timestampProblem(name, value);
  if (epochMs < startMs || (epochMs === startMs && parsedMicros < startMicros)) return problem(name, `${shown(value)} is before start_time`);
  return undefined;
}

/** What validating a record learns that its caller needs as well, filled in for a valid record. */
export interface CdrRecordFacts {
  /** start_time in milliseconds since the epoch (for the partition of the record). */
  startTimeMs: number;
}

/**
 * Checks one canonical CDR record against every rule of the import format and returns the first problem,
 * or undefined when the record is valid (then `facts`, when given, is filled in). Absent keys count as null;
 * empty strings should already be null. Runs once per imported record, so it avoids allocating when all is well.
 */
export function validateCdrRecord(record: CdrRecord, facts?: CdrRecordFacts): InvalidParam | undefined {
  for (let i = 0; i < REQUIRED_NAMES.length; i++) {
    const value = record[REQUIRED_NAMES[i]!];
    if (value === undefined || value === null || value === '') return problem(REQUIRED_NAMES[i]!, 'is required');
  }
  // The required values are non-empty strings from here on.
  const required = record as Record<string, string>;
  const { id, account_id: accountId, product, direction, from, to, start_time: startTime } = required;
  if (!UUID.test(id!)) return problem('id', `${shown(id!)} must be a UUID like 0b0e3c52-5d0a-4c8e-9a51-3b8f6c2d7e10`);
  if (!ACCOUNT_ID.test(accountId!)) {
    return problem('account_id', `${shown(accountId!)} must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`);
  }
  const statuses = STATUSES_BY_PRODUCT.get(product!);
  if (statuses === undefined) return problem('product', `${shown(product!)} must be one of ${PRODUCTS.join(', ')}`);
  if (!DIRECTION_SET.has(direction!)) return problem('direction', `${shown(direction!)} must be one of ${DIRECTIONS.join(', ')}`);
  const address = addressProblem('from', from!) ?? addressProblem('to', to!);
  if (address) return address;

  const startMs = parseEpochMs(startTime!);
  if (Number.isNaN(startMs)) return timestampProblem('start_time', startTime!);
  const startMicros = parsedMicros;
  const found =
    notBeforeStartProblem('answer_time', record.answer_time, startMs, startMicros) ??
    notBeforeStartProblem('end_time', record.end_time, startMs, startMicros) ??
    countsProblem(required, statuses) ??
    optionalColumnsProblem(record) ??
    moneyProblem(required);
  if (found === undefined && facts !== undefined) facts.startTimeMs = startMs;
  return found;
}

function countsProblem(record: Record<string, string>, statuses: ReadonlySet<string>): InvalidParam | undefined {
  const { duration, billsec, status, product } = record;
  const counts = integerProblem('duration', duration!) ?? integerProblem('billsec', billsec!);
  if (counts) return counts;
  if (Number(billsec) > Number(duration)) return problem('billsec', `${shown(billsec!)} must not exceed duration (${duration})`);
  if (!statuses.has(status!)) return problem('status', `${shown(status!)} must be one of ${[...statuses].join(', ')} for ${product}`);
  return undefined;
}

function optionalColumnsProblem(record: CdrRecord): InvalidParam | undefined {
  const { hangup_cause: hangupCause, country, network, parts, client_ref: clientRef, message_body: messageBody } = record;
  if (hangupCause != null && !HANGUP_CAUSE.test(hangupCause)) {
    return problem('hangup_cause', `${shown(hangupCause)} must be a cause name or code: up to 64 letters, digits, spaces and _ . : ( ) / -`);
  }
  if (country != null && !(COUNTRY.test(country) && ISO_COUNTRY_CODES.has(country))) {
    return problem('country', `${shown(country)} must be an ISO 3166-1 alpha-2 code like GB`);
  }
  if (network != null && !MCC_MNC.test(network)) return problem('network', `${shown(network)} must be an MCC-MNC code of 5 or 6 digits like 23415`);
  if (parts != null && !(NON_NEGATIVE_INTEGER.test(parts) && Number(parts) <= INT4_MAX)) {
    return problem('parts', `${shown(parts)} must be a whole number from 0 to ${INT4_MAX}`);
  }
  const unstorable = 'must not contain NUL characters or unpaired UTF-16 surrogates';
  if (clientRef != null && UNSTORABLE_TEXT.test(clientRef)) return problem('client_ref', unstorable);
  if (messageBody != null && UNSTORABLE_TEXT.test(messageBody)) return problem('message_body', unstorable);
  return undefined;
}

function moneyProblem(record: Record<string, string>): InvalidParam | undefined {
  const { currency, price, total_price: totalPrice } = record;
  if (!(CURRENCY.test(currency!) && ISO_CURRENCY_CODES.has(currency!))) return problem('currency', `${shown(currency!)} must be an ISO 4217 code like EUR`);
  const decimalRule = 'must be a decimal with up to 12 integer and 8 fractional digits, like 0.0125 or -3.5';
  if (!DECIMAL.test(price!)) return problem('price', `${shown(price!)} ${decimalRule}`);
  if (!DECIMAL.test(totalPrice!)) return problem('total_price', `${shown(totalPrice!)} ${decimalRule}`);
  return undefined;
}

/**
 * Checks the column names of an import file's header: exactly the canonical columns, in any order.
 * Returns a reason naming the missing, unknown and repeated columns, or undefined when the header is right.
 */
export function validateCdrHeader(columns: readonly string[]): string | undefined {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) repeated.add(column);
    seen.add(column);
  }
  const missing = CDR_COLUMN_NAMES.filter((name) => !seen.has(name));
  const unknown = [...seen].filter((name) => !CANONICAL.has(name));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing columns: ${missing.join(', ')}`);
  if (unknown.length > 0) problems.push(`unknown columns: ${unknown.map((name) => JSON.stringify(name)).join(', ')}`);
  if (repeated.size > 0) problems.push(`repeated columns: ${[...repeated].join(', ')}`);
  return problems.length > 0 ? `header: ${problems.join('; ')}` : undefined;
}

/** True for the columns that may be absent or empty (null) in a record. */
export function isNullableCdrColumn(name: string): boolean {
  return CANONICAL.has(name) && !REQUIRED.has(name);
}
