import { effectiveStatus, type ReportRecord } from '@cdr-reports/domain';
import type { ObjectStore } from '@cdr-reports/object-store';

/** The longest a presigned link may live (SigV4). */
const MAX_LINK_SECONDS = 7 * 86_400;

/**
 * A presigned link to a SUCCESS report's one file, valid until expires_at (at most 7 days); undefined otherwise,
 * and for a report split into several files (each has its own link: fileLink).
 */
export async function downloadLink(links: ObjectStore, report: ReportRecord, now: Date): Promise<string | undefined> {
  if (!report.fileKey || !report.file || (report.files && report.files.length > 1)) return undefined;
  return presign(links, report, report.fileKey, report.file.name, now);
}

/** A presigned link to file `index` (0-based) of a SUCCESS report; undefined when there is no such file or link. */
export async function fileLink(links: ObjectStore, report: ReportRecord, index: number, now: Date): Promise<string | undefined> {
  const file = report.files?.[index];
  return file ? presign(links, report, file.key, file.name, now) : undefined;
}

async function presign(links: ObjectStore, report: ReportRecord, key: string, name: string, now: Date): Promise<string | undefined> {
  if (effectiveStatus(report, now) !== 'SUCCESS' || !report.expiresAt) return undefined;
  // Rounded up: a link asked for in the last second before expires_at still works, for that second.
  const seconds = Math.min(MAX_LINK_SECONDS, Math.ceil((report.expiresAt.getTime() - now.getTime()) / 1000));
  if (seconds < 1) return undefined;
  return links.presignGet(key, seconds, name);
}
