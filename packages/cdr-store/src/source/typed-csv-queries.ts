/**
 * The "typed CSV" of a report, for a writer that types every value itself (Parquet): PostgreSQL still renders
 * the rows (COPY ... CSV is the cheapest way out of it), but as data rather than for a spreadsheet:
 * - no header row (the writer knows its columns from the request);
 * - raw values: no formula escaping (a Parquet string is never run as a formula);
 * - timestamps as UTC RFC 3339 with all six fraction digits (2026-03-10T09:00:00.123456Z), whatever the
 *   request's time zone: one fixed shape, exact to the microsecond, that the writer turns into an instant;
 * - integers and numerics as their exact text (numeric keeps its digits; never a float);
 * - NULL apart from the empty string: PostgreSQL's CSV writes NULL as an unquoted empty field and '' as `""`.
 * Rows, filters and order are exactly those of the CSV report (the same matchingRows).
 */
import { cdrColumn, type ReportRequest } from '@cdr-reports/domain';
import { matchingRows, quoteIdent, usageSelectSql, type Literal, type TimeRange } from './cdr-queries';

/** One column of the typed CSV. */
function typedColumnExpression(name: string): string {
  const column = cdrColumn(name);
  const ref = `c.${quoteIdent(name)}`;
  if (column.timestamp) return `to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return `${ref}::text`;
}

/** COPY of one time range of a report of records as typed CSV (see the top of this file). */
export function typedExportCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  const columns = request.fields.map((name) => `${typedColumnExpression(name)} AS ${quoteIdent(name)}`).join(',\n  ');
  const select = `SELECT ${columns}\nFROM ${matchingRows(request, accountIds, range, literal)}\nORDER BY c.start_time, c.id`;
  return `COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER false)`;
}

/**
 * COPY of a usage report as typed CSV: the groups as the CSV report has them (day YYYY-MM-DD and month YYYY-MM in
 * the request's time zone, counts as integers, decimals as exact text, never escaped), without the header row.
 */
export function typedUsageCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  return `COPY (${usageSelectSql(request, accountIds, range, literal)}) TO STDOUT WITH (FORMAT csv, HEADER false)`;
}

/** The typed CSV COPY of one segment of a report (the whole range for a usage report). */
export function typedCopySql(request: ReportRequest, accountIds: readonly string[], segment: TimeRange, literal: Literal): string {
  return request.type === 'usage' ? typedUsageCopySql(request, accountIds, segment, literal) : typedExportCopySql(request, accountIds, segment, literal);
}
