/**
 * The CDR source port: every read of call detail records (a report's rows and summary, its row estimate, a page
 * of records, records by id, usage groups) goes through it. The PostgreSQL adapter is postgres-cdr-source.ts;
 * the contract every adapter keeps is test/cdr-source.contract.ts. Failures come out as the domain's classes
 * (DatabaseUnavailableError, RequestRejectedError), never as driver errors.
 */
import type { ReportRequest, ReportSummary } from '@cdr-reports/domain';
import type { RecordPosition, TimeRange } from './cdr-queries';

export type { RecordPosition, TimeRange };

/** Which records: a report request's product, filters and time range, over these accounts. */
export interface CdrSelection {
  request: ReportRequest;
  /** The accounts whose records are read: the request's account alone, with its descendants, or a list. */
  accountIds: readonly string[];
  /**
   * For the synchronous reads only (a page of records, usage groups): every account of a large tree, which the
   * query finds in the account closure itself, instead of `accountIds` (then empty), so that a page does not
   * carry 20,000 ids to PostgreSQL and back. A report lists its accounts, read once per report.
   */
  tree?: { root: string; size: number };
}

/** One row as the source renders it: every value exact text (timestamps RFC 3339 in the request's zone). */
export type SourceRow = Record<string, string | null>;

export interface RecordsPageRead {
  /** At most `limit` records, in (start_time, id) order, with the requested fields. */
  records: SourceRow[];
  /** More records follow the last one. */
  more: boolean;
  /** Where the page ends (its last record), to resume after. */
  end?: RecordPosition;
}

export interface CdrSource {
  /** About how many records a selection holds, from statistics (nothing is read): what decides a report's lane. */
  estimateRows(selection: CdrSelection): Promise<number>;
  /**
   * Opens one consistent read of a report over `range`: every segment it streams and its summary come from one
   * snapshot, so the file and its summary describe the same rows. Close it whatever happens.
   */
  openReportRead(selection: CdrSelection, range: TimeRange): Promise<ReportRead>;
  /** One page of records after `after`, for the synchronous records API. */
  recordsPage(selection: CdrSelection, page: { limit: number; after?: RecordPosition }): Promise<RecordsPageRead>;
  /** Records by id among `accountIds`, in (start_time, id) order; each row carries `position_id` (its id). */
  recordsById(query: { ids: readonly string[]; accountIds: readonly string[]; fields: readonly string[]; timezone: string }): Promise<SourceRow[]>;
  /** One page of a usage request's groups (dimensions, then metrics) and how many groups there are in all. */
  usageGroups(selection: CdrSelection, page: { limit: number; offset: number }): Promise<{ rows: SourceRow[]; total: number }>;
}

export interface ReportRead {
  /**
   * The CSV of one segment of the range (a usage report: its groups over the whole range), rows in
   * (start_time, id) order, with the header row when `header`. `rows` counts them once the iteration ends.
   * A `format: "jsonl"` request's segments are JSON Lines instead (one object per row, never a header).
   * A Parquet report reads the typed CSV instead (typed-csv-queries.ts: raw values, UTC timestamps, no header).
   */
  segmentCsv(segment: TimeRange, header: boolean): CsvSegment;
  /** The summary of the whole range, read meanwhile in the same snapshot. */
  readonly summary: Promise<ReportSummary>;
  /** Ends the read and gives its connections back. Safe to call once the read failed or was abandoned mid-segment. */
  close(): Promise<void>;
}

export interface CsvSegment extends AsyncIterable<Buffer> {
  /** Data rows streamed, once the iteration has ended. */
  readonly rows: number;
}
