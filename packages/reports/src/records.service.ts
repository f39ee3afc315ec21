import { subtractPeriod, type CalendarPeriod } from '@cdr-reports/config';
import { MERGED_SCAN_MAX_ACCOUNTS, type CdrSelection, type CdrSource, type RecordPosition } from '@cdr-reports/cdr-store';
import type { AccountsRepository } from '@cdr-reports/db';
import {
  CDR_COLUMN_NAMES,
  CDR_COLUMNS,
  ForbiddenError,
  INTEGER_USAGE_METRICS,
  ValidationError,
  isTimeZone,
  parseReportRequest,
  type InvalidParam,
  type ReportRequest,
} from '@cdr-reports/domain';
import { checkAccountIds } from './account-access';

/** The query string as Fastify parses it: a repeated parameter is an array. */
export type QueryParams = Record<string, string | string[] | undefined>;

/** The longest time range of a synchronous request (records or usage), in days. */
export const SYNC_MAX_SPAN_DAYS = 31;
export const RECORDS_MAX_LIMIT = 1000;
export const RECORDS_DEFAULT_LIMIT = 100;
export const RECORDS_MAX_IDS = 20;
export const USAGE_MAX_PAGE_SIZE = 5000;
export const USAGE_DEFAULT_PAGE_SIZE = 20;

export interface RecordsServiceDependencies {
  source: CdrSource;
  accounts: AccountsRepository;
  cdrRetention: CalendarPeriod;
  /** The time zone names the CDR store renders (PostgreSQL's pg_timezone_names). */
  timeZones: ReadonlySet<string>;
  now?: () => Date;
}

export type JsonRecord = Record<string, string | number | null>;

export interface RecordsPage {
  records: JsonRecord[];
  /** More records follow: ask again with `cursor`. */
  truncated: boolean;
  /** Where this page ends (resume after it); the given cursor when the page is empty; undefined when neither. */
  cursor?: string;
}

export interface UsagePage {
  columns: string[];
  rows: JsonRecord[];
  pageNumber: number;
  pageSize: number;
  totalResults: number;
  totalPages: number;
}

// Query parameters that carry the same fields as a report request body.
const LIST_PARAMS = new Set(['status', 'fields', 'dimensions', 'metrics', 'account_ids']);
const BOOLEAN_PARAMS = new Set(['include_subaccounts', 'include_message']);
const FILTER_PARAMS = ['product', 'account_id', 'account_ids', 'include_subaccounts', 'date_start', 'date_end', 'direction', 'status', 'from', 'to', 'country', 'network', 'hangup_cause', 'client_ref', 'min_duration', 'timezone'];
const RECORDS_PARAMS = new Set([...FILTER_PARAMS, 'fields', 'include_message', 'limit', 'cursor', 'id']);
const USAGE_PARAMS = new Set([...FILTER_PARAMS, 'dimensions', 'metrics', 'format', 'page[number]', 'page[size]']);
const INTEGER_COLUMNS = new Set(CDR_COLUMNS.filter((c) => c.sqlType === 'integer').map((c) => c.name));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_FIELDS = CDR_COLUMN_NAMES.filter((name) => name !== 'message_body');

/**
 * The synchronous reads of the CDR store: a page of records (keyset on start_time, id), records by id, and
 * usage totals by dimension. Each takes the same product, account, filter and time parameters as a report,
 * over at most 31 days, and answers from one short read-only transaction.
 */
export class RecordsService {
  private readonly now: () => Date;

  constructor(private readonly deps: RecordsServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /** GET /v1/records without `id`: one page, after the cursor's position. */
  async records(principal: string, query: QueryParams): Promise<RecordsPage> {
    const problems: InvalidParam[] = [];
    checkKnown(query, RECORDS_PARAMS, problems);
    const limit = integerParam(query, 'limit', { min: 1, max: RECORDS_MAX_LIMIT, fallback: RECORDS_DEFAULT_LIMIT }, problems);
    const cursorText = single(query, 'cursor', problems);
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
    if (cursorText !== undefined && !after) problems.push({ name: 'cursor', reason: 'is not a cursor this API issued; pass the cursor of the previous page as it was' });
    const request = this.parse(principal, query, ['limit', 'cursor', 'id'], problems);
    const page = await this.deps.source.recordsPage(await this.accountsCovered(principal, request), { limit, after });
    const cursor = page.end ? encodeCursor(page.end) : cursorText;
    return { records: page.records.map((row) => toJsonRecord(row, request.fields)), truncated: page.more, ...(cursor !== undefined && { cursor }) };
  }

  /** GET /v1/records?id=...: those records among the accounts the caller may read, and the ids not found. */
  async recordsById(principal: string, query: QueryParams): Promise<{ records: JsonRecord[]; idsNotFound: string[] }> {
    const problems: InvalidParam[] = [];
    checkKnown(query, new Set(['id', 'account_id', 'include_subaccounts', 'fields', 'include_message', 'timezone']), problems);
    const raw = query.id;
    const ids = (Array.isArray(raw) ? raw : [raw ?? '']).flatMap((value) => value.split(',')).map((value) => value.trim());
    if (ids.length > RECORDS_MAX_IDS) problems.push({ name: 'id', reason: `at most ${RECORDS_MAX_IDS} ids per request, got ${ids.length}` });
    const invalid = ids.filter((id) => !UUID.test(id));
    if (invalid.length > 0) problems.push({ name: 'id', reason: `${invalid.slice(0, 3).map((id) => `"${id.slice(0, 40)}"`).join(', ')} is not a record id (a UUID)` });
    const accountId = single(query, 'account_id', problems);
    const subaccounts = single(query, 'include_subaccounts', problems);
    if (subaccounts !== undefined && subaccounts !== 'true' && subaccounts !== 'false') problems.push({ name: 'include_subaccounts', reason: 'must be true or false' });
    const includeMessage = single(query, 'include_message', problems);
    if (includeMessage !== undefined && includeMessage !== 'true' && includeMessage !== 'false') problems.push({ name: 'include_message', reason: 'must be true or false' });
    const fields = fieldsParam(query, includeMessage === 'true', problems);
    const timezone = single(query, 'timezone', problems) ?? 'UTC';
    if (!isTimeZone(timezone) || !this.deps.timeZones.has(timezone)) problems.push({ name: 'timezone', reason: 'must be an IANA time zone like UTC or Europe/Paris' });
    if (problems.length > 0) throw new ValidationError(problems);

    // Without account_id: every account the caller may read (its own and its descendants').
    const account = accountId ?? principal;
    if (accountId !== undefined && !(await this.deps.accounts.isSelfOrDescendant(principal, accountId))) {
      throw new ForbiddenError(`this API key cannot read records of account ${accountId}`);
    }
    const withDescendants = subaccounts === undefined ? accountId === undefined : subaccounts === 'true';
    const accountIds = withDescendants ? (await this.deps.accounts.selfAndDescendants(account)).map((a) => a.id) : [account];
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    const rows = await this.deps.source.recordsById({ ids: unique, accountIds, fields, timezone });
    const found = new Set(rows.map((row) => String(row.position_id)));
    return { records: rows.map((row) => toJsonRecord(row, fields)), idsNotFound: unique.filter((id) => !found.has(id)) };
  }

  /** GET /v1/usage: one page of a usage report's groups. */
  async usage(principal: string, query: QueryParams): Promise<UsagePage & { format: 'json' | 'csv' }> {
    const problems: InvalidParam[] = [];
    checkKnown(query, USAGE_PARAMS, problems);
    const pageNumber = integerParam(query, 'page[number]', { min: 1, max: 1_000_000, fallback: 1 }, problems);
    const pageSize = integerParam(query, 'page[size]', { min: 1, max: USAGE_MAX_PAGE_SIZE, fallback: USAGE_DEFAULT_PAGE_SIZE }, problems);
    const format = single(query, 'format', problems) ?? 'json';
    if (format !== 'json' && format !== 'csv') problems.push({ name: 'format', reason: 'must be json or csv' });
    const request = this.parse(principal, { ...query, type: 'usage' }, ['format', 'page[number]', 'page[size]'], problems);
    const { rows, total: totalResults } = await this.deps.source.usageGroups(await this.accountsCovered(principal, request), { limit: pageSize, offset: (pageNumber - 1) * pageSize });
    return {
      format: format as 'json' | 'csv',
      columns: request.fields,
      rows: rows.map((row) => toUsageRow(row, request)),
      pageNumber,
      pageSize,
      totalResults,
      totalPages: Math.ceil(totalResults / pageSize),
    };
  }

  /** A report request from query parameters (lists comma-separated or repeated), over at most 31 days. */
  private parse(principal: string, query: QueryParams, own: string[], problems: InvalidParam[]): ReportRequest {
    const body: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || own.includes(name)) continue;
      if (LIST_PARAMS.has(name)) body[name] = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).filter((v) => v !== '');
      else if (Array.isArray(value)) problems.push({ name, reason: 'is given more than once' });
      else if (BOOLEAN_PARAMS.has(name)) body[name] = value === 'true' ? true : value === 'false' ? false : value;
      else if (name === 'min_duration') body[name] = /^\d+$/.test(value) ? Number(value) : value;
      else body[name] = value;
    }
    const now = this.now();
    let request: ReportRequest | undefined;
    try {
      request = parseReportRequest(body, {
        principalAccountId: principal,
        now,
        oldestDateStart: subtractPeriod(now, this.deps.cdrRetention),
        isKnownTimeZone: (zone) => this.deps.timeZones.has(zone),
        maxSpanDays: SYNC_MAX_SPAN_DAYS,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problems.push(...error.invalidParams);
    }
    if (problems.length > 0) throw new ValidationError(problems);
    return request!;
  }

  /**
   * The accounts a read covers, once authorized: account_ids when given, else account_id with its descendants or
   * alone. A tree too large for a merged read is named by its root, and the query finds its accounts itself.
   */
  private async accountsCovered(principal: string, request: ReportRequest): Promise<CdrSelection> {
    if (request.account_id !== principal && !(await this.deps.accounts.isSelfOrDescendant(principal, request.account_id))) {
      throw new ForbiddenError(`this API key cannot read records of account ${request.account_id}`);
    }
    if (request.account_ids) {
      await checkAccountIds(this.deps.accounts, principal, request.account_ids, 'read records of');
      return { request, accountIds: request.account_ids };
    }
    if (!request.include_subaccounts) return { request, accountIds: [request.account_id] };
    const size = await this.deps.accounts.treeSize(request.account_id);
    if (size > MERGED_SCAN_MAX_ACCOUNTS) return { request, accountIds: [], tree: { root: request.account_id, size } };
    return { request, accountIds: await this.deps.accounts.descendantIds(request.account_id) };
  }
}

function checkKnown(query: QueryParams, known: ReadonlySet<string>, problems: InvalidParam[]): void {
  for (const name of Object.keys(query)) if (!known.has(name)) problems.push({ name, reason: 'unknown parameter' });
}

function single(query: QueryParams, name: string, problems: InvalidParam[]): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    problems.push({ name, reason: 'is given more than once' });
    return undefined;
  }
  return value;
}

function integerParam(query: QueryParams, name: string, rule: { min: number; max: number; fallback: number }, problems: InvalidParam[]): number {
  const value = single(query, name, problems);
  if (value === undefined) return rule.fallback;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(number >= rule.min && number <= rule.max)) {
    problems.push({ name, reason: `must be a whole number from ${rule.min} to ${rule.max}` });
    return rule.fallback;
  }
  return number;
}

function fieldsParam(query: QueryParams, includeMessage: boolean, problems: InvalidParam[]): string[] {
  const raw = query.fields;
  if (raw === undefined) return includeMessage ? [...CDR_COLUMN_NAMES] : [...DEFAULT_FIELDS];
  const names = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  const unknown = names.filter((name) => !CDR_COLUMN_NAMES.includes(name));
  if (names.length === 0) problems.push({ name: 'fields', reason: 'must list at least one column' });
  if (unknown.length > 0) problems.push({ name: 'fields', reason: `unknown column(s) ${unknown.map((f) => `"${f}"`).join(', ')}; columns are ${CDR_COLUMN_NAMES.join(', ')}` });
  return [...new Set(names)];
}

/** A record as JSON: integers as numbers, decimals (price, total_price) as exact strings, absent values null. */
function toJsonRecord(row: Record<string, unknown>, fields: readonly string[]): JsonRecord {
  const record: JsonRecord = {};
  for (const name of fields) {
    const value = row[name];
    record[name] = value === null || value === undefined ? null : INTEGER_COLUMNS.has(name) ? Number(value) : String(value);
  }
  return record;
}

function toUsageRow(row: Record<string, unknown>, request: ReportRequest): JsonRecord {
  const result: JsonRecord = {};
  for (const name of request.dimensions ?? []) result[name] = row[name] === null ? null : String(row[name]);
  for (const name of request.metrics ?? []) {
    const value = row[name];
    if (value === null || value === undefined) result[name] = null;
    else if (INTEGER_USAGE_METRICS.has(name)) result[name] = Number(value);
    else if (name === 'answer_rate') result[name] = Number(value);
    else result[name] = String(value);
  }
  return result;
}

/** The cursor is opaque to callers: a version, the position's start_time (UTC, microseconds) and id. */
export function encodeCursor(position: RecordPosition): string {
  return Buffer.from(`r1|${position.startTime}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): RecordPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const [version, startTime, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== 'r1' || !startTime || !id) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(startTime) || Number.isNaN(Date.parse(startTime)) || !UUID.test(id)) return undefined;
  return { startTime, id };
}
