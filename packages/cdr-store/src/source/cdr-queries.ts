/**
 * The SQL of a report: PostgreSQL writes the CSV itself (COPY ... TO STDOUT), which is several times
 * cheaper than building row objects in JavaScript. Column choice, time zone and exact decimals are expressed
 * here; a CSV report's timestamps and formula escaping are finished on its bytes (csv-rendering.ts). COPY takes no bind parameters, so every value is inlined through
 * `literal` (the driver's escapeLiteral), never by string concatenation of raw input.
 */
import { cdrColumn, USAGE_DIMENSIONS, type ReportRequest } from '@cdr-reports/domain';

export type Literal = (value: string) => string;

/** A half-open time range [from, to) on start_time. */
export interface TimeRange {
  from: Date;
  to: Date;
  /**
   * The bounds exactly as requested (RFC 3339, to the microsecond, which Date cannot hold); they take
   * precedence over `from` and `to` in the SQL. Set on the outer edges of a report's segments.
   */
  fromText?: string;
  toText?: string;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * A timestamp column as RFC 3339 in the session time zone (SET LOCAL TimeZone), with only as many fraction digits
 * as the instant needs: none, milliseconds or microseconds. What the records API returns; a CSV report gets the
 * same form from csv-rendering.ts, which costs less there.
 */
function timestampExpression(name: string): string {
  const ref = `c.${quoteIdent(name)}`;
  return `CASE WHEN date_trunc('second', ${ref}) = ${ref} THEN to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')
      WHEN date_trunc('milliseconds', ${ref}) = ${ref} THEN to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM')
      ELSE to_char(${ref}, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') END`;
}

/**
 * Up to this many accounts, a read merges one index scan per account: rows stream in (start_time, id) order
 * straight off the (account_id, product, start_time, id) index with nothing sorted, and planning the UNION ALL
 * stays under a millisecond or two. Beyond it planning grows with every branch (278 ms for 2,001 accounts, a
 * stack overflow past 10,000), so the read becomes one scan over the set, sorted per segment (see README, "Account
 * trees of any size", for the measurements).
 */
export const MERGED_SCAN_MAX_ACCOUNTS = 64;

/** How a read over these accounts is planned: one merged index scan per account, or one scan over the set. */
export type ReadPlan = 'merged' | 'set';

/**
 * The accounts a query reads: listed, or every account of a tree (its root and all its descendants, `size` of
 * them), which the query finds in account_closure itself instead of carrying thousands of ids.
 */
export type QueryAccounts = readonly string[] | { tree: string; size: number };

export function readPlan(accounts: QueryAccounts): ReadPlan {
  const count = 'tree' in accounts ? accounts.size : accounts.length;
  return count <= MERGED_SCAN_MAX_ACCOUNTS ? 'merged' : 'set';
}

/**
 * `account_id` in the set, tested against a hash of the ids (PostgreSQL hashes a constant array of this size).
 * `account_id || ''` hides the column from the planner on purpose: it would otherwise estimate the selectivity
 * of every id one by one (20-85 ms per query for 20,000 ids) and weigh probing the (account_id, ...) index once
 * per id, the slow plan here; the rows are read in (start_time, id) order off cdrs_time_idx instead. The row
 * estimate (once per report) wants exactly those per-id statistics: `forEstimate` shows the column.
 */
function accountSetCondition(accountIds: readonly string[], literal: Literal, forEstimate = false): string {
  return `${forEstimate ? 'account_id' : "(account_id || '')"} = ANY(${literal(textArray(accountIds))}::text[])`;
}

/**
 * The text of a text[] value holding `values`: each element double-quoted, with `"` and `\` escaped as PostgreSQL's
 * array input syntax requires (account ids hold neither; escaped all the same).
 */
function textArray(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

/** The WHERE conditions of the request's filters for the accounts `accountCondition` names, on one time range. */
function conditions(request: ReportRequest, accountCondition: string, range: TimeRange, literal: Literal): string[] {
  const where = [
    accountCondition,
    `product = ${literal(request.product)}`,
    `start_time >= ${literal(range.fromText ?? range.from.toISOString())}::timestamptz`,
    `start_time < ${literal(range.toText ?? range.to.toISOString())}::timestamptz`,
  ];
  if (request.direction) where.push(`direction = ${literal(request.direction)}`);
  if (request.status) where.push(`status IN (${request.status.map(literal).join(', ')})`);
  for (const column of ['from', 'to'] as const) {
    const value = request[column];
    if (value === undefined) continue;
    where.push(
      value.endsWith('*')
        ? `starts_with(${quoteIdent(column)}, ${literal(value.slice(0, -1))})`
        : `${quoteIdent(column)} = ${literal(value)}`,
    );
  }
  for (const column of ['country', 'network', 'hangup_cause', 'client_ref'] as const) {
    const value = request[column];
    if (value !== undefined) where.push(`${quoteIdent(column)} = ${literal(value)}`);
  }
  if (request.min_duration !== undefined) where.push(`duration >= ${Number(request.min_duration)}`);
  return where;
}

/**
 * The rows of the report in one time range, as a relation `c` with every cdrs column. A few accounts become a
 * UNION ALL of one index scan each, which PostgreSQL merges in (start_time, id) order without sorting; many
 * accounts one scan over the set (see readPlan), which the query's ORDER BY sorts.
 */
export function matchingRows(
  request: ReportRequest,
  accounts: QueryAccounts,
  range: TimeRange,
  literal: Literal,
  options: { extra?: readonly string[]; forEstimate?: boolean } = {},
): string {
  const select = (accountCondition: string) => `SELECT * FROM cdrs WHERE ${[...conditions(request, accountCondition, range, literal), ...(options.extra ?? [])].join(' AND ')}`;
  if ('tree' in accounts) {
    if (readPlan(accounts) === 'merged') throw new Error('a small tree is read by its list of accounts');
    // One probe of the closure's primary key per row (memoized per account): rows keep their index order.
    return `(${select(`account_id IN (SELECT descendant_id FROM account_closure WHERE ancestor_id = ${literal(accounts.tree)})`)}) c`;
  }
  if (accounts.length === 0) throw new Error('a report covers at least one account');
  if (readPlan(accounts) === 'set') return `(${select(accountSetCondition(accounts, literal, options.forEstimate))}) c`;
  const branches = accounts.map((id) => select(`account_id = ${literal(id)}`));
  return branches.length === 1 ? `(${branches[0]}) c` : `(${branches.join('\nUNION ALL\n')}) c`;
}

/** COPY of one time range of the report as CSV (with the header row when `header`), before csv-rendering.ts. */
export function exportCopySql(
  request: ReportRequest,
  accountIds: readonly string[],
  range: TimeRange,
  literal: Literal,
  header: boolean,
): string {
  // Every value in PostgreSQL's own text output; csv-rendering.ts finishes timestamps and escaping as it streams.
  const columns = request.fields.map((name) => `c.${quoteIdent(cdrColumn(name).name)}`).join(', ');
  const select = `SELECT ${columns}\nFROM ${matchingRows(request, accountIds, range, literal)}\nORDER BY c.start_time, c.id`;
  return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER ${header ? 'true' : 'false'})`;
}

/**
 * The summary of the whole report in one scan: count and totals per (currency, status), which the exporter
 * folds into totals per currency, counts per status and the grand totals (exact decimals). One plain
 * GROUP BY of a handful of groups costs half of GROUPING SETS over the same rows. Run in the same snapshot
 * as the COPYs, it describes exactly their rows.
 */
export function summarySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  return `SELECT c.currency, c.status, count(*)::bigint AS records,
    coalesce(sum(c.duration), 0)::bigint AS duration_seconds, coalesce(sum(c.billsec), 0)::bigint AS billsec_seconds,
    sum(c.total_price)::text AS total_price
  FROM ${matchingRows(request, accountIds, range, literal)}
  GROUP BY c.currency, c.status`;
}

/** The planner's estimate of the report's rows (EXPLAIN, nothing is read): what decides a report's lane. */
export function estimateSql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  return `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${matchingRows(request, accountIds, range, literal, { forEstimate: true })}`;
}

/** The SQL value of a usage dimension (day and month in the request's time zone). */
function dimensionExpression(name: string, timezone: string, literal: Literal): string {
  if (name === 'day') return `to_char(c.start_time AT TIME ZONE ${literal(timezone)}, 'YYYY-MM-DD')`;
  if (name === 'month') return `to_char(c.start_time AT TIME ZONE ${literal(timezone)}, 'YYYY-MM')`;
  if (!(USAGE_DIMENSIONS as readonly string[]).includes(name)) throw new Error(`unknown dimension ${name}`);
  return `c.${quoteIdent(name)}`;
}

/** The SQL of a usage metric over one group; decimals as exact text. */
function metricExpression(name: string): string {
  switch (name) {
    case 'count':
      return 'count(*)';
    case 'duration':
      return 'coalesce(sum(c.duration), 0)';
    case 'billsec':
      return 'coalesce(sum(c.billsec), 0)';
    case 'parts':
      return 'coalesce(sum(c.parts), 0)';
    case 'total_price':
      // Grouped by currency whenever this is asked for (the request parser sees to it): never a sum across currencies.
      return 'coalesce(sum(c.total_price), 0)::text';
    case 'answered':
      return `count(*) FILTER (WHERE c.status = 'answered')`;
    case 'answer_rate':
      return `round(count(*) FILTER (WHERE c.status = 'answered')::numeric / nullif(count(*), 0), 4)::text`;
    default:
      throw new Error(`unknown metric ${name}`);
  }
}

/**
 * A usage report's rows: one per group of its dimensions, in dimension order, with its metrics. With
 * `page`, one page of them and the number of groups in every row (`total_results`).
 */
export function usageSelectSql(
  request: ReportRequest,
  accountIds: QueryAccounts,
  range: TimeRange,
  literal: Literal,
  page?: { limit: number; offset: number },
): string {
  const dimensions = request.dimensions ?? [];
  const metrics = request.metrics ?? [];
  const columns = [
    ...dimensions.map((name) => `${dimensionExpression(name, request.timezone, literal)} AS ${quoteIdent(name)}`),
    ...metrics.map((name) => `${metricExpression(name)} AS ${quoteIdent(name)}`),
  ];
  if (page) columns.push('count(*) OVER () AS total_results');
  const positions = dimensions.map((_, index) => String(index + 1));
  // Byte order (COLLATE "C"), the same on every server whatever its locale: pages never shift between them.
  const order = dimensions.map((name) => `${dimensionExpression(name, request.timezone, literal)} COLLATE "C"`);
  const groupBy = positions.length > 0 ? `\nGROUP BY ${positions.join(', ')}\nORDER BY ${order.join(', ')}` : '';
  const limit = page ? `\nLIMIT ${Number(page.limit)} OFFSET ${Number(page.offset)}` : '';
  return `SELECT ${columns.join(',\n  ')}\nFROM ${matchingRows(request, accountIds, range, literal)}${groupBy}${limit}`;
}

/** COPY of a usage report as CSV: the header is the dimensions, then the metrics. */
export function usageCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  return `COPY (${usageSelectSql(request, accountIds, range, literal)}) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

/** Where a page of records ends: the last record's start_time (text, to the microsecond, UTC) and id. */
export interface RecordPosition {
  startTime: string;
  id: string;
}

/**
 * One page of records for the synchronous records API, in (start_time, id) order after `after`: raw values
 * (JSON needs no spreadsheet escaping), timestamps in the session time zone, and `position_time`, the
 * start_time in UTC to the microsecond, for the next cursor. One more row than `limit` tells that more follow.
 */
export function recordsPageSql(
  request: ReportRequest,
  accountIds: QueryAccounts,
  range: TimeRange,
  literal: Literal,
  page: { limit: number; after?: RecordPosition },
): string {
  const keyset = page.after
    ? [`(start_time, id) > (${literal(page.after.startTime)}::timestamptz, ${literal(page.after.id)}::uuid)`]
    : [];
  const columns = request.fields.map((name) => `${recordColumnExpression(name)} AS ${quoteIdent(name)}`);
  columns.push(`to_char(c.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position_time`, 'c.id::text AS position_id');
  return `SELECT ${columns.join(',\n  ')}\nFROM ${matchingRows(request, accountIds, range, literal, { extra: keyset })}\nORDER BY c.start_time, c.id\nLIMIT ${Number(page.limit) + 1}`;
}

/** Records by id, among the given accounts, in (start_time, id) order: the columns as recordsPageSql writes them. */
export function recordsByIdSql(fields: readonly string[]): string {
  const columns = fields.map((name) => `${recordColumnExpression(name)} AS ${quoteIdent(name)}`);
  return `SELECT ${columns.join(', ')}, c.id::text AS position_id FROM cdrs c
  WHERE c.id = ANY($1::uuid[]) AND c.account_id = ANY($2::text[]) ORDER BY c.start_time, c.id`;
}

/** A column for JSON: timestamps as the CSV writes them, everything else as its exact text, unescaped. */
export function recordColumnExpression(name: string): string {
  return cdrColumn(name).timestamp ? timestampExpression(name) : `c.${quoteIdent(name)}::text`;
}
