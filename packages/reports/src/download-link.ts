import { effectiveStatus, type ReportRecord } from '@cdr-reports/domain';
import type { ObjectStore } from '@cdr-reports/object-store';

/** The longest a presigned link may live (SigV4). */
const MAX_LINK_SECONDS = 7 * 86_400;

/** A presigned link to a SUCCESS report's file, valid until expires_at (at most 7 days); undefined otherwise. */
export async function downloadLink(links: ObjectStore, report: ReportRecord, now: Date): Promise<string | undefined> {
  if (effectiveStatus(report, now) !== 'SUCCESS' || !report.fileKey || !report.expiresAt || !report.file) return undefined;
  // Rounded up: a link asked for in the last second before expires_at still works, for that second.
  const seconds = Math.min(MAX_LINK_SECONDS, Math.ceil((report.expiresAt.getTime() - now.getTime()) / 1000));
  if (seconds < 1) return undefined;
  return links.presignGet(report.fileKey, seconds, report.file.name);
}
