import type { ReportError, ReportFile, ReportFileEntry, ReportRequest, ReportStatus, ReportSummary } from './report.types';

export const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Where a report with a destination_id stands in being copied into the customer's storage. */
export interface ReportDelivery {
  destinationId: string;
  state: DeliveryState;
  /** 1 for the first delivery, +1 per redeliver: names the delivery job and its callback event. */
  run: number;
  deliveredAt: Date | null;
  /** Why it failed: the step (connect, authenticate, write, ...) and the message. */
  error: { step: string; message: string } | null;
  /** The manifest's key (or path) in the destination, once delivered. */
  manifestKey: string | null;
  /** Where each file went in the destination, in order, once delivered. */
  fileKeys: string[] | null;
}

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
  /** Every file of a SUCCESS report, in order (one unless the request set max_file_rows or max_file_bytes). */
  files: ReportFileEntry[] | null;
  /** The manifest's key in our bucket, written after the files. */
  manifestKey: string | null;
  delivery: ReportDelivery | null;
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
  /** A presigned download URL, given only while the report is SUCCESS and has one file. */
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
    // One file: `file` as before; split reports have no single file to name.
    resource.file = report.files && report.files.length > 1 ? null : report.file;
    resource.files = (report.files ?? []).map((file) => ({ name: file.name, rows: file.rows, size_bytes: file.size_bytes, sha256: file.sha256, content_type: file.content_type }));
  }
  if (report.delivery) {
    resource.delivery = {
      destination_id: report.delivery.destinationId,
      state: report.delivery.state,
      delivered_at: report.delivery.deliveredAt?.toISOString() ?? null,
      manifest_key: report.delivery.manifestKey,
      file_keys: report.delivery.fileKeys,
      error: report.delivery.error,
    };
  }
  resource.expires_at = report.expiresAt?.toISOString() ?? null;
  if (status === 'FAILED') resource.error = report.error;
  const resourceLinks: Record<string, { href: string }> = { self: { href: links.self } };
  if (status === 'SUCCESS' && links.download) resourceLinks.download_report = { href: links.download };
  if (status === 'SUCCESS' && report.manifestKey) {
    resourceLinks.manifest = { href: `${links.self}/manifest` };
    resourceLinks.files = { href: `${links.self}/files` };
  }
  resource._links = resourceLinks;
  return resource;
}
