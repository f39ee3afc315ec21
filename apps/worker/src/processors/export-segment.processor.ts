import { UnrecoverableError, type Job } from 'bullmq';
import type { ReportSummary } from '@cdr-reports/domain';
import { exportReport, reportFileNaming } from '@cdr-reports/export';
import { parseExportSegmentPayload } from '@cdr-reports/jobs';
import { ReleasedError, abortOnRelease, accountIdsOf, failAttempt, handBack, watchForAbort, type GenerateReportDependencies } from './generate-report.processor';

/** What a segment leaves for the assembly: its part of the file and of the summary. */
export interface SegmentResult {
  index: number;
  /** undefined when the report was aborted (nothing stored). */
  part?: { key: string; size: number; items: number; summary: ReportSummary };
}

/** Where segment `index` of a report is stored until the assembly joins the parts. */
export function segmentKey(reportKey: string, index: number): string {
  return `${reportKey}.parts/${String(index).padStart(4, '0')}.csv.gz`;
}

/**
 * Exports one time segment of a fanned-out report as a gzip part (the first one with the header). Retried on
 * its own; when its attempts are spent the report fails, and the flow fails its parent. A worker shutting
 * down hands it back to the queue, as it does a report.
 */
export async function processExportSegment(deps: GenerateReportDependencies, job: Job, token?: string): Promise<SegmentResult> {
  const payload = parseExportSegmentPayload(job.data);
  if (!payload) throw new UnrecoverableError(`invalid export-segment payload: ${JSON.stringify(job.data).slice(0, 200)}`);
  const { reportId, index, count } = payload;
  const log = deps.logger.child({ report_id: reportId, job_id: job.id, segment: index, segments: count, attempt: job.attemptsMade + 1 });

  const report = await deps.reports.find(reportId);
  if (report?.status !== 'PROCESSING') {
    log.info({ status: report?.status }, 'report is no longer processing; segment skipped');
    return { index };
  }
  const controller = new AbortController();
  const stopReleaseWatch = abortOnRelease(deps.release, controller);
  const poll = watchForAbort(deps, reportId, controller);
  try {
    const key = segmentKey(reportFileNaming(reportId, report.request).key, index);
    const result = await exportReport(deps.export, {
      reportId,
      request: report.request,
      accountIds: await accountIdsOf(deps, report.request),
      signal: controller.signal,
      onProgress: async () => undefined,
      part: {
        range: { from: new Date(payload.from), to: new Date(payload.to), fromText: payload.fromText, toText: payload.toText },
        header: index === 0,
        key,
      },
    });
    await deps.reports.addProgress(reportId, result.itemsCount, 100 / count);
    log.info({ items: result.itemsCount, bytes: result.file.size_bytes }, 'segment exported');
    return { index, part: { key, size: result.file.size_bytes, items: result.itemsCount, summary: result.summary } };
  } catch (error) {
    if (controller.signal.reason instanceof ReleasedError) return handBack(job, token, log, 'segment');
    if (controller.signal.aborted) {
      log.info('report aborted; segment upload cancelled');
      return { index };
    }
    return failAttempt(deps, job, reportId, error, log);
  } finally {
    clearInterval(poll);
    stopReleaseWatch();
  }
}
