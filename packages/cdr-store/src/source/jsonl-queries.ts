/**
 * The SQL of a JSON Lines report: PostgreSQL renders each record as one JSON object (row_to_json), in the same
 * order, over the same rows (matchingRows) and with the same timestamps as the CSV; only the encoding differs.
 * Values are the stored ones, unescaped (JSON is not opened by a spreadsheet): integers are JSON numbers, exact
 * decimals strings, nulls null.
 */
import { CDR_COLUMNS, type ReportRequest } from '@cdr-reports/domain';
import { matchingRows, quoteIdent, recordColumnExpression, usageSelectSql, type Literal, type TimeRange } from './cdr-queries';

const INTEGER_COLUMNS = new Set(CDR_COLUMNS.filter((column) => column.sqlType === 'integer').map((column) => column.name));

/**
 * COPY writing one JSON text per line, as it is. CSV mode, because text mode doubles every backslash (JSON has
 * plenty); with a quote and a delimiter byte that JSON text never holds raw (it escapes every control character as
 * \uXXXX) and one column, CSV mode has nothing to quote and writes each value verbatim, ended by \n. A JSON text is
 * never empty (the NULL string) nor `\.` (the end-of-data marker), the other two values CSV mode would quote.
 */
function jsonLinesCopy(select: string): string {
  return `COPY (${select}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;
}

/** The value of one column in a record's JSON object: integers as numbers, everything else as recordsPageSql writes it. */
function jsonColumnExpression(name: string): string {
  return INTEGER_COLUMNS.has(name) ? `c.${quoteIdent(name)}` : recordColumnExpression(name);
}

/**
 * COPY of one time range of a report as JSON Lines: one object per record with the requested fields in order, in
 * (start_time, id) order. The object's columns are a LATERAL subquery of `c` alone, which PostgreSQL flattens into
 * the scan: rows still stream in index order, and row_to_json writes compact JSON keyed by the column names.
 */
export function exportJsonlCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  const columns = request.fields.map((name) => `${jsonColumnExpression(name)} AS ${quoteIdent(name)}`).join(',\n  ');
  return jsonLinesCopy(
    `SELECT row_to_json(r)::text\nFROM ${matchingRows(request, accountIds, range, literal)}\nCROSS JOIN LATERAL (SELECT ${columns}) r\nORDER BY c.start_time, c.id`,
  );
}

/**
 * COPY of a usage report as JSON Lines: one object per group, its dimensions then its metrics, in the CSV's order.
 * The groups' values as usageSelectSql computes them: counts and sums of integers are bigint (JSON numbers), money
 * and rates exact text (strings). The outer ORDER BY repeats the groups' order, which a subquery alone does not
 * promise to keep.
 */
export function usageJsonlCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  const order = (request.dimensions ?? []).map((name) => `g.${quoteIdent(name)} COLLATE "C"`);
  return jsonLinesCopy(`SELECT row_to_json(g)::text\nFROM (${usageSelectSql(request, accountIds, range, literal)}) g${order.length > 0 ? `\nORDER BY ${order.join(', ')}` : ''}`);
}

/** COPY of one time range of a report (records or usage) as JSON Lines: what a `format: "jsonl"` report is made of. */
export function jsonlCopySql(request: ReportRequest, accountIds: readonly string[], range: TimeRange, literal: Literal): string {
  return request.type === 'usage' ? usageJsonlCopySql(request, accountIds, range, literal) : exportJsonlCopySql(request, accountIds, range, literal);
}
