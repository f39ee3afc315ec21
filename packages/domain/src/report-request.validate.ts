/**
 * Validation of a report request body, as a pure function: every problem is collected and named by field,
 * and a valid body comes back as a ReportRequest with the defaults filled in.
 */
import { ACCOUNT_ID_PATTERN, CDR_COLUMN_NAMES, DIRECTIONS, PRODUCTS, statusesFor, type Direction, type Product } from './cdr-columns';
import { parseRfc3339 } from './cdr-record.validate';
import { ValidationError, type InvalidParam } from './errors';
import { COMPRESSIONS, FORMATS, type Compression, type Format, type ReportRequest } from './report.types';
import { DEFAULT_USAGE_DIMENSIONS, DEFAULT_USAGE_METRICS, usageDimensionsFor, usageMetricsFor } from './usage';

export interface ReportRequestContext {
  /** The account the API key acts for: the default account_id. */
  principalAccountId: string;
  /** Now, for the retention limit. */
  now: Date;
  /** The oldest date_start allowed (now minus CDR_RETENTION). */
  oldestDateStart: Date;
  /**
   * Whether the CDR store knows a time zone name. Default: this runtime's IANA data. The API passes
   * PostgreSQL's own list, which is what renders the file (ICU still knows names PostgreSQL dropped).
   */
  isKnownTimeZone?: (zone: string) => boolean;
  /** The longest time range allowed, in days; default MAX_REPORT_SPAN_MONTHS months. (The synchronous APIs allow 31 days.) */
  maxSpanDays?: number;
}

const KNOWN_FIELDS = new Set([
  'type',
  'dimensions',
  'metrics',
  'product',
  'account_id',
  'account_ids',
  'include_subaccounts',
  'date_start',
  'date_end',
  'direction',
  'status',
  'from',
  'to',
  'country',
  'network',
  'hangup_cause',
  'client_ref',
  'min_duration',
  'fields',
  'include_message',
  'timezone',
  'compression',
  'format',
  'callback_url',
  'destination_id',
  'max_file_rows',
  'max_file_bytes',
]);

/** The smallest max_file_bytes: below it a file holds too few rows to be worth a request of its own. */
export const MIN_FILE_BYTES = 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The most accounts one request may list in `account_ids`: the largest tree the service is built and measured for
 * (a parent with 20,000 subaccounts). A whole tree is `include_subaccounts`, which has no such limit.
 */
export const MAX_REPORT_ACCOUNT_IDS = 20_000;

/** The longest time range one report may cover. */
export const MAX_REPORT_SPAN_MONTHS = 13;

const DEFAULT_FIELDS = CDR_COLUMN_NAMES.filter((name) => name !== 'message_body');
const ADDRESS_FILTER = /^[A-Za-z0-9+ ]{1,32}\*?$/;

/** True when `zone` is an IANA time zone name this runtime knows. */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The first few values, quoted, and how many more: for messages about long lists. */
export function quoteFew(values: readonly string[], few = 5): string {
  const shown = values.slice(0, few).map((v) => `"${v.slice(0, 70)}"`).join(', ');
  return values.length > few ? `${shown} and ${values.length - few} more` : shown;
}

/** `date` plus whole calendar months, in UTC. */
function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  result.setUTCMonth(result.getUTCMonth() + months);
  return result;
}

/**
 * Validates a report request body. Throws ValidationError listing every invalid field; returns the request
 * with defaults filled in otherwise. Authorization (may the caller report on account_id?) is the caller's.
 */
export function parseReportRequest(body: unknown, context: ReportRequestContext): ReportRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ name: 'body', reason: 'must be a JSON object' }]);
  }
  const input = body as Record<string, unknown>;
  const problems: InvalidParam[] = [];
  const bad = (name: string, reason: string) => problems.push({ name, reason });

  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) bad(key, 'unknown field');
  }

  const string = (name: string, options: { pattern?: RegExp; rule?: string; max?: number } = {}): string | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return void bad(name, 'must be a string');
    if (value.length === 0) return void bad(name, 'must not be empty');
    if (options.max !== undefined && value.length > options.max) return void bad(name, `must be at most ${options.max} characters`);
    if (options.pattern && !options.pattern.test(value)) return void bad(name, options.rule ?? 'has an invalid format');
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const value = input[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      bad(name, 'must be true or false');
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !allowed.includes(value as T)) return void bad(name, `must be one of ${allowed.join(', ')}`);
    return value as T;
  };

  // product
  let product: Product | undefined;
  if (input.product === undefined || input.product === null) bad('product', `is required: one of ${PRODUCTS.join(', ')}`);
  else product = oneOf('product', PRODUCTS);

  const accountId =
    string('account_id', { pattern: ACCOUNT_ID_PATTERN, rule: 'must be an account id (letters, digits, "_", ".", "-")', max: 64 }) ??
    context.principalAccountId;
  const includeSubaccounts = boolean('include_subaccounts', false);

  // account_ids: an explicit list of accounts (the key's own or below it; the caller authorizes), instead of
  // account_id's tree. account_id stays the report's owner (the key's account unless given).
  let accountIds: string[] | undefined;
  if (input.account_ids !== undefined && input.account_ids !== null) {
    const value = input.account_ids;
    if (!Array.isArray(value) || value.length === 0 || !value.every((v): v is string => typeof v === 'string')) {
      bad('account_ids', 'must be a non-empty list of account ids');
    } else if (value.length > MAX_REPORT_ACCOUNT_IDS) {
      bad('account_ids', `lists ${value.length} accounts; at most ${MAX_REPORT_ACCOUNT_IDS} (for a whole tree use account_id with include_subaccounts)`);
    } else {
      const invalid = value.filter((v) => !ACCOUNT_ID_PATTERN.test(v));
      const seen = new Set<string>();
      const repeated = new Set<string>();
      for (const id of value) (seen.has(id) ? repeated : seen).add(id);
      if (invalid.length > 0) bad('account_ids', `${quoteFew(invalid)} ${invalid.length === 1 ? 'is not an account id' : 'are not account ids'} (letters, digits, "_", ".", "-")`);
      else if (repeated.size > 0) bad('account_ids', `lists ${quoteFew([...repeated])} more than once`);
      else accountIds = value;
    }
    if (input.include_subaccounts === true) bad('include_subaccounts', 'cannot be true with account_ids: list every account in account_ids, or use account_id with include_subaccounts');
  }

  // date_start, date_end
  const date = (name: string) => {
    const value = input[name];
    if (value === undefined || value === null) return void bad(name, 'is required: an RFC 3339 timestamp like 2026-03-01T00:00:00Z');
    if (typeof value !== 'string') return void bad(name, 'must be an RFC 3339 timestamp string');
    const instant = parseRfc3339(value);
    if (!instant) return void bad(name, `"${value.slice(0, 40)}" is not an RFC 3339 timestamp with an offset, like 2026-03-01T00:00:00Z`);
    return { text: value, ms: instant.epochMs + instant.micros / 1000 };
  };
  const start = date('date_start');
  const end = date('date_end');
  if (start && end) {
    if (start.ms >= end.ms) bad('date_end', 'must be after date_start');
    else if (context.maxSpanDays !== undefined && end.ms - start.ms > context.maxSpanDays * 86_400_000) {
      bad('date_end', `the time range may span at most ${context.maxSpanDays} days`);
    } else if (end.ms > addMonths(new Date(start.ms), MAX_REPORT_SPAN_MONTHS).getTime()) {
      bad('date_end', `the time range may span at most ${MAX_REPORT_SPAN_MONTHS} months`);
    }
  }
  if (start && start.ms < context.oldestDateStart.getTime()) {
    bad('date_start', `records are kept until ${context.oldestDateStart.toISOString()} at the oldest (CDR retention); start on or after it`);
  }

  const direction = oneOf<Direction>('direction', DIRECTIONS);

  // status: one value or an array of values valid for the product
  let status: string[] | undefined;
  if (input.status !== undefined && input.status !== null) {
    const values = Array.isArray(input.status) ? input.status : [input.status];
    if (values.length === 0) bad('status', 'must not be an empty list');
    else if (!values.every((v): v is string => typeof v === 'string')) bad('status', 'must be a string or a list of strings');
    else if (product) {
      const allowed = statusesFor(product);
      const invalid = values.filter((v) => !allowed.includes(v));
      if (invalid.length > 0) bad('status', `${invalid.map((v) => `"${v}"`).join(', ')} not valid for ${product}: use ${allowed.join(', ')}`);
      else if (new Set(values).size !== values.length) bad('status', 'lists a value twice');
      else status = values;
    }
  }

  const addressRule = 'must be a number or sender id (letters, digits, "+", spaces; up to 32), optionally ending with * for a prefix';
  const from = string('from', { pattern: ADDRESS_FILTER, rule: addressRule });
  const to = string('to', { pattern: ADDRESS_FILTER, rule: addressRule });
  const country = string('country', { pattern: /^[A-Z]{2}$/, rule: 'must be an ISO 3166-1 alpha-2 code like GB' });
  const network = string('network', { max: 64 });
  const hangupCause = string('hangup_cause', { max: 64 });
  const clientRef = string('client_ref', { max: 256 });

  let minDuration: number | undefined;
  if (input.min_duration !== undefined && input.min_duration !== null) {
    if (typeof input.min_duration !== 'number' || !Number.isInteger(input.min_duration) || input.min_duration < 0 || input.min_duration > 2_147_483_647) {
      bad('min_duration', 'must be a whole number of seconds >= 0');
    } else minDuration = input.min_duration;
  }

  const includeMessage = boolean('include_message', false);

  // type: records (the default) or usage (totals by dimension)
  let usage = false;
  if (input.type !== undefined && input.type !== null) {
    if (input.type === 'usage') usage = true;
    else if (input.type !== 'records') bad('type', 'must be records or usage');
  }
  if (!usage) {
    if (input.dimensions !== undefined) bad('dimensions', 'applies to usage reports only ("type": "usage")');
    if (input.metrics !== undefined) bad('metrics', 'applies to usage reports only ("type": "usage")');
  } else {
    if (input.fields !== undefined) bad('fields', 'applies to record reports; a usage report has dimensions and metrics');
    if (input.include_message !== undefined) bad('include_message', 'applies to record reports only');
  }
  const nameList = (name: 'dimensions' | 'metrics', valid: readonly string[] | undefined, fallback: readonly string[]): string[] | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return [...fallback];
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) return void bad(name, 'must be a list of names');
    if (name === 'metrics' && value.length === 0) return void bad(name, 'must name at least one metric');
    if (!valid) return undefined;
    const unknown = value.filter((v) => !valid.includes(v));
    if (unknown.length > 0) return void bad(name, `${unknown.map((v) => `"${v}"`).join(', ')} not valid for ${product}: use ${valid.join(', ')}`);
    if (new Set(value).size !== value.length) return void bad(name, 'lists a name twice');
    return value;
  };
  let dimensions: string[] | undefined;
  let metrics: string[] | undefined;
  if (usage) {
    dimensions = nameList('dimensions', product && usageDimensionsFor(product), DEFAULT_USAGE_DIMENSIONS);
    metrics = nameList('metrics', product && usageMetricsFor(product), DEFAULT_USAGE_METRICS);
    // Money is summed per currency, never across currencies: grouping by currency comes with it.
    if (dimensions && metrics?.includes('total_price') && !dimensions.includes('currency')) dimensions.push('currency');
  }

  // fields
  let fields = includeMessage ? [...CDR_COLUMN_NAMES] : [...DEFAULT_FIELDS];
  if (input.fields !== undefined && input.fields !== null) {
    if (!Array.isArray(input.fields) || input.fields.length === 0 || !input.fields.every((f) => typeof f === 'string')) {
      bad('fields', 'must be a non-empty list of column names');
    } else {
      const names = input.fields as string[];
      const unknown = names.filter((f) => !CDR_COLUMN_NAMES.includes(f));
      const repeated = names.filter((f, i) => names.indexOf(f) !== i);
      if (unknown.length > 0) bad('fields', `unknown column(s) ${unknown.map((f) => `"${f}"`).join(', ')}; columns are ${CDR_COLUMN_NAMES.join(', ')}`);
      if (repeated.length > 0) bad('fields', `repeated column(s) ${[...new Set(repeated)].map((f) => `"${f}"`).join(', ')}`);
      if (includeMessage && !names.includes('message_body')) {
        bad('include_message', 'applies only when fields is absent; list message_body in fields instead');
      }
      fields = names;
    }
  }

  const timezoneValue = input.timezone;
  let timezone = 'UTC';
  if (timezoneValue !== undefined && timezoneValue !== null) {
    const known = context.isKnownTimeZone ?? isTimeZone;
    if (typeof timezoneValue !== 'string' || !isTimeZone(timezoneValue) || !known(timezoneValue)) {
      bad('timezone', 'must be an IANA time zone like UTC or Europe/Paris');
    } else {
      timezone = timezoneValue;
    }
  }

  const format: Format = oneOf('format', FORMATS) ?? 'csv';
  let compression: Compression = oneOf('compression', COMPRESSIONS) ?? 'gzip';
  if (format === 'parquet') {
    // A Parquet file is compressed inside, column chunk by column chunk: a zip or gzip around it would only hide that.
    if (input.compression !== undefined && input.compression !== null) {
      bad('compression', `applies to csv and jsonl; a parquet file compresses its columns itself (zstd): leave compression out with "format": "parquet"`);
      bad('format', `parquet cannot be combined with compression "${String(input.compression)}"`);
    }
    compression = 'zstd';
  }

  let callbackUrl: string | undefined;
  const callback = string('callback_url', { max: 2048 });
  if (callback !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(callback);
    } catch {
      bad('callback_url', 'must be an absolute http(s) URL');
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') bad('callback_url', 'must use http or https');
    else if (url) callbackUrl = callback;
  }

  // Delivery into the caller's own storage (its existence and owner are the caller's to check) and split files.
  const destinationId = string('destination_id', { pattern: UUID, rule: 'must be a destination id (a UUID, from POST /v1/destinations)' });
  const limit = (name: string, min: number, rule: string): number | undefined => {
    const value = input[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) return void bad(name, rule);
    return value;
  };
  const maxFileRows = limit('max_file_rows', 1, 'must be a whole number of rows >= 1');
  const maxFileBytes = limit('max_file_bytes', MIN_FILE_BYTES, `must be a whole number of bytes >= ${MIN_FILE_BYTES} (1 MiB), the compressed size of one file`);

  if (problems.length > 0) throw new ValidationError(problems);
  if (usage) fields = [...dimensions!, ...metrics!];
  const request: ReportRequest = {
    ...(usage && { type: 'usage' as const }),
    product: product!,
    account_id: accountId,
    ...(accountIds !== undefined && { account_ids: accountIds }),
    include_subaccounts: includeSubaccounts,
    date_start: start!.text,
    date_end: end!.text,
    fields,
    include_message: includeMessage,
    timezone,
    format,
    compression,
    ...(usage && { dimensions, metrics }),
  };
  // Optional filters are present only when given, so the echo shows exactly what filters apply.
  const optional = { direction, status, from, to, country, network, hangup_cause: hangupCause, client_ref: clientRef, min_duration: minDuration, callback_url: callbackUrl,
    destination_id: destinationId?.toLowerCase(), max_file_rows: maxFileRows, max_file_bytes: maxFileBytes };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (request as unknown as Record<string, unknown>)[key] = value;
  }
  return request;
}
