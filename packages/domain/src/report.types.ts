import type { Direction, Product } from './cdr-columns';

export const REPORT_STATUSES = ['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'ABORTED', 'EXPIRED'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** Statuses a report never leaves (but for SUCCESS -> EXPIRED, which time does). */
export const TERMINAL_STATUSES: readonly ReportStatus[] = ['SUCCESS', 'FAILED', 'ABORTED', 'EXPIRED'];

/** What a report file is: CSV (a spreadsheet opens it), JSON Lines or Parquet (warehouses and notebooks load them). */
export const FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];

/** How csv and jsonl files are compressed; a Parquet file compresses its column chunks itself (zstd). */
export const COMPRESSIONS = ['gzip', 'zip'] as const;
export type Compression = (typeof COMPRESSIONS)[number] | 'zstd';

/**
 * A report request after validation, with every default filled in. It is stored as it is and echoed in the
 * report resource, so what the caller reads back is exactly what the worker exported.
 */
export interface ReportRequest {
  /** Absent for a report of records; 'usage' for totals by dimension (one row per group). */
  type?: 'usage';
  product: Product;
  /** The report's owner: the key's account unless named. Without account_ids, the account reported on. */
  account_id: string;
  /**
   * When given, exactly these accounts are reported on (each the key's account or below it), instead of
   * account_id alone or with its descendants (include_subaccounts is then false).
   */
  account_ids?: string[];
  include_subaccounts: boolean;
  /** RFC 3339, inclusive, on start_time. */
  date_start: string;
  /** RFC 3339, exclusive, on start_time. */
  date_end: string;
  direction?: Direction;
  status?: string[];
  /** Exact value, or a prefix when it ends with `*`. */
  from?: string;
  to?: string;
  country?: string;
  network?: string;
  hangup_cause?: string;
  client_ref?: string;
  min_duration?: number;
  /** The columns written, in order (for a usage report: its dimensions, then its metrics). */
  fields: string[];
  /** Usage reports: what rows are grouped by (day and month in `timezone`). */
  dimensions?: string[];
  /** Usage reports: what is computed per group. */
  metrics?: string[];
  include_message: boolean;
  /** IANA zone the file's timestamps are written in. */
  timezone: string;
  /** csv (the default), jsonl or parquet. */
  format: Format;
  /** gzip or zip for csv and jsonl; zstd (inside the file) for parquet. */
  compression: Compression;
  callback_url?: string;
  /** Where the files are delivered besides our bucket (POST /v1/destinations). */
  destination_id?: string;
  /** Split the report into files of at most this many rows each. */
  max_file_rows?: number;
  /** Split the report into files of at most this many (compressed) bytes each; >= 1 MiB. */
  max_file_bytes?: number;
}

/** One file of a report, in order: what the resource's `files` and the manifest list. */
export interface ReportFileEntry {
  /** The object key in our bucket. */
  key: string;
  name: string;
  rows: number;
  size_bytes: number;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  content_type: string;
}

/** What a SUCCESS report sums up: exactly the rows of its file. */
export interface ReportSummary {
  records: number;
  duration_seconds: number;
  billsec_seconds: number;
  /** Per currency, exact decimal strings. */
  total_price: Record<string, string>;
  /** Record count per status. */
  status: Record<string, number>;
}

export interface ReportFile {
  name: string;
  size_bytes: number;
  content_type: string;
}

export interface ReportError {
  code: string;
  message: string;
}
