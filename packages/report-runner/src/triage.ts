import type { ReportRequest } from '@cdr-reports/domain';

/** The thresholds that send a report down one path or another (REPORT_LARGE_ROWS, REPORT_FAN_OUT_ROWS, ...). */
export interface TriageThresholds {
  /** Reports estimated above this many rows leave the standard lane for the large one. */
  largeRows: number;
  /** Reports estimated above this many rows (gzip only, records only) are fanned out into segments. */
  fanOutRows: number;
  /** Rows per segment aimed at when fanning out. */
  segmentRows: number;
}

/** Where a report is built: here (the standard lane), in the large lane, or as segments any worker can take. */
export type TriageDecision =
  | { path: 'here'; estimatedRows: number }
  | { path: 'large-lane'; estimatedRows: number }
  | { path: 'fan-out'; estimatedRows: number; segments: number };

/** The most segments one report is split into. */
export const MAX_SEGMENTS = 64;

/**
 * Decides a report's path from its estimated rows. Fanned-out parts are joined as gzip members into one file, so
 * only gzip reports of records in one file fan out (a usage report is one grouping over its whole range; a report
 * split into files of max_file_rows or max_file_bytes is cut by one stream that counts both).
 */
export function triage(request: ReportRequest, estimatedRows: number, thresholds: TriageThresholds): TriageDecision {
  const split = request.max_file_rows !== undefined || request.max_file_bytes !== undefined;
  // A Parquet file is one footer over all its row groups: parts cannot be joined (its compression is zstd anyway).
  const parquet = request.format === 'parquet';
  if (estimatedRows > thresholds.fanOutRows && request.compression === 'gzip' && !parquet && request.type !== 'usage' && !split) {
    const segments = Math.min(MAX_SEGMENTS, Math.max(2, Math.ceil(estimatedRows / thresholds.segmentRows)));
    return { path: 'fan-out', estimatedRows, segments };
  }
  if (estimatedRows > thresholds.largeRows) return { path: 'large-lane', estimatedRows };
  return { path: 'here', estimatedRows };
}
