import type { Pool } from '@cdr-reports/db';
import type { ReportRequest } from '@cdr-reports/domain';
import { estimateSql } from './export-query';

/**
 * About how many rows a report will have, from the planner's statistics (a millisecond, nothing read):
 * enough to tell a report of a thousand rows from one of millions.
 */
export async function estimateReportRows(pool: Pool, request: ReportRequest, accountIds: readonly string[]): Promise<number> {
  const range = { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end };
  const client = await pool.connect();
  try {
    const sql = estimateSql(request, accountIds, range, (value) => client.escapeLiteral(value));
    const result = await client.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(sql);
    return Math.round(result.rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0);
  } finally {
    client.release();
  }
}
