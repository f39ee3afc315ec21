import type { CallbacksRepository, ReportsRepository } from '@cdr-reports/db';
import { publishCallbackEvent, type CallbackQueue, type ReportQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';

export interface ReportSweeperDependencies {
  reports: ReportsRepository;
  store: ObjectStore;
  queue: ReportQueue;
  callbacks: { queue: CallbackQueue; store: CallbacksRepository };
  logger: Logger;
  /** An open report untouched this long is checked against its job. Default 2 min. */
  staleAfterMs?: number;
}

export interface SweepResult {
  filesDeleted: number;
  requeued: number;
  failed: number;
}

/**
 * Keeps two promises: files do not outlive expires_at (the bucket's lifecycle rule is only the backstop),
 * and no accepted report is silently lost (a report whose job vanished is enqueued again, one whose job
 * failed for good is marked FAILED with the job's reason). Idempotent.
 */
export async function processReportSweeper(deps: ReportSweeperDependencies, now = new Date()): Promise<SweepResult> {
  const result: SweepResult = { filesDeleted: 0, requeued: 0, failed: 0 };
  for (;;) {
    const expired = await deps.reports.filesToDelete(now, 100);
    for (const report of expired) {
      await deps.store.delete(report.fileKey!);
      await deps.reports.markFileDeleted(report.id);
      result.filesDeleted++;
    }
    if (expired.length < 100) break;
  }

  const stale = await deps.reports.staleOpenReports(new Date(now.getTime() - (deps.staleAfterMs ?? 120_000)), 500);
  for (const report of stale) {
    const job = await deps.queue.jobState(report.id);
    if (job === undefined || job.state === 'completed') {
      await deps.queue.removeFinished(report.id);
      await deps.queue.enqueue(report.id);
      result.requeued++;
    } else if (job.state === 'failed') {
      const failed = await deps.reports.fail(report.id, {
        code: 'EXPORT_FAILED',
        message: `the report could not be built after its retries: ${(job.failedReason ?? 'unknown reason').slice(0, 300)}`,
      });
      if (failed.changed) result.failed++;
      await publishCallbackEvent(failed.eventId, deps.callbacks.queue, deps.callbacks.store, deps.logger);
    }
    await deps.reports.touch(report.id);
  }
  if (result.filesDeleted + result.requeued + result.failed > 0) deps.logger.info(result, 'report sweeper');
  return result;
}
