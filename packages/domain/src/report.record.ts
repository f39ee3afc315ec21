import type { ReportError, ReportFile, ReportRequest, ReportStatus, ReportSummary } from './report.types';

/** A report as the store keeps it. */
export interface ReportRecord {
  id: string;
  accountId: string;
  requestedBy: string;
  request: ReportRequest;
  status: ReportStatus;
  receiveTime: Date;
  startTime: Date | null;
  endTime: Date | null;
  itemsCount: number | null;
  progressItems: number | null;
  progressPercent: number | null;
  summary: ReportSummary | null;
  fileKey: string | null;
  file: ReportFile | null;
  expiresAt: Date | null;
  fileDeletedAt: Date | null;
  error: ReportError | null;
  attempts: number;
  /** The schedule that created it, and the local start date of that run's period. */
  scheduleId: string | null;
  periodStart: string | null;
}

/**
 * The status a caller sees: a SUCCESS report reads EXPIRED from expires_at on, whether or not the
 * sweeper has deleted its file yet. The 72-hour promise does not depend on a background job.
 */
export function effectiveStatus(report: Pick<ReportRecord, 'status' | 'expiresAt'>, now: Date): ReportStatus {
  if (report.status === 'SUCCESS' && report.expiresAt !== null && report.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return report.status;
}

export interface ReportResourceLinks {
  /** Absolute or root-relative URL of the report itself. */
  self: string;
  /** A presigned download URL, given only while the report is SUCCESS. */
  download?: string;
}

/**
 * The report resource: what GET /v1/reports/{id} answers and what callbacks carry.
 * Field names follow the public API (snake_case); absent facts are null rather than missing.
 */
export function toReportResource(report: ReportRecord, now: Date, links: ReportResourceLinks): Record<string, unknown> {
  const status = effectiveStatus(report, now);
  const resource: Record<string, unknown> = {
    request_id: report.id,
    request_status: status,
    ...report.request,
    receive_time: report.receiveTime.toISOString(),
    start_time: report.startTime?.toISOString() ?? null,
    end_time: report.endTime?.toISOString() ?? null,
    items_count: report.itemsCount,
  };
  if (report.scheduleId) resource.schedule_id = report.scheduleId;
  if (status === 'PROCESSING' || status === 'PENDING') {
    resource.progress = { items_processed: report.progressItems ?? 0, percent: report.progressPercent ?? 0 };
  }
  if (status === 'SUCCESS' || status === 'EXPIRED') {
    resource.summary = report.summary;
    resource.file = report.file;
  }
  resource.expires_at = report.expiresAt?.toISOString() ?? null;
  if (status === 'FAILED') resource.error = report.error;
  const resourceLinks: Record<string, { href: string }> = { self: { href: links.self } };
  if (status === 'SUCCESS' && links.download) resourceLinks.download_report = { href: links.download };
  resource._links = resourceLinks;
  return resource;
}
