/**
 * The manifest: the document written next to a report's files after every one of them is stored, so its
 * presence means the export is complete (AWS Data Exports' and CUR's manifest, one per export). It names every
 * file with its rows, size and sha256, and the report's totals, so a loader can check what it received.
 */
import { CDR_COLUMNS } from './cdr-columns';
import type { ReportFileEntry, ReportRequest, ReportSummary } from './report.types';
import { INTEGER_USAGE_METRICS } from './usage';
import { describeParquetType, parquetColumns, type ParquetTypeDescription } from './parquet-columns';

export interface ManifestColumn {
  name: string;
  /** The column's type as the file carries it: string, integer, decimal (exact, as text), timestamp (RFC 3339), date. */
  type: 'string' | 'integer' | 'decimal' | 'timestamp' | 'date';
  /** Whether the column may hold NULL (an empty field in CSV, null in JSON Lines and Parquet). */
  nullable: boolean;
  /** Parquet reports only: the column's physical and logical Parquet type and its repetition. */
  parquet?: ParquetTypeDescription;
}

export interface ManifestFile {
  /** Where the file was written: the object key in the bucket, or the path on the SFTP server. */
  key: string;
  rows: number;
  size_bytes: number;
  sha256: string;
}

export interface Manifest {
  manifest_version: 1;
  report_id: string;
  account_id: string;
  created_at: string;
  request: ReportRequest;
  format: ReportRequest['format'];
  compression: ReportRequest['compression'];
  columns: ManifestColumn[];
  files: ManifestFile[];
  rows: number;
  summary: ReportSummary;
}

export const MANIFEST_NAME = 'manifest.json';

/** The columns of a report's files, typed. */
export function manifestColumns(request: ReportRequest): ManifestColumn[] {
  return parquetColumns(request).map((column) => ({
    name: column.name,
    type: request.type === 'usage' ? usageColumnType(column.name) : recordColumnType(column.name),
    nullable: column.nullable,
    ...(request.format === 'parquet' && { parquet: describeParquetType(column) }),
  }));
}

function recordColumnType(name: string): ManifestColumn['type'] {
  const column = CDR_COLUMNS.find((c) => c.name === name);
  if (column?.timestamp) return 'timestamp';
  if (column?.sqlType === 'integer') return 'integer';
  if (column?.sqlType === 'numeric') return 'decimal';
  return 'string';
}

function usageColumnType(name: string): ManifestColumn['type'] {
  if (name === 'day') return 'date';
  if (INTEGER_USAGE_METRICS.has(name)) return 'integer';
  if (name === 'total_price' || name === 'answer_rate') return 'decimal';
  return 'string';
}

/** The manifest of a report whose files are `files`, each at `keyOf(file)` (our bucket, or a destination). */
export function buildManifest(
  report: { id: string; accountId: string; request: ReportRequest; summary: ReportSummary; itemsCount: number },
  files: readonly ReportFileEntry[],
  keyOf: (file: ReportFileEntry) => string,
  createdAt: Date,
): Manifest {
  return {
    manifest_version: 1,
    report_id: report.id,
    account_id: report.accountId,
    created_at: createdAt.toISOString(),
    request: report.request,
    format: report.request.format,
    compression: report.request.compression,
    columns: manifestColumns(report.request),
    files: files.map((file) => ({ key: keyOf(file), rows: file.rows, size_bytes: file.size_bytes, sha256: file.sha256 })),
    rows: report.itemsCount,
    summary: report.summary,
  };
}

/** The manifest as stored, in our bucket and in destinations alike: indented JSON, one final newline. */
export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}
