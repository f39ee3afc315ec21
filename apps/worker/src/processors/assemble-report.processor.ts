import { UnrecoverableError, type Job } from 'bullmq';
import { mergeSummaries } from '@cdr-reports/domain';
import { ExportIntegrityError, reportFileNaming } from '@cdr-reports/export';
import { parseAssembleReportPayload, publishCallbackEvent } from '@cdr-reports/jobs';
import { attachmentDisposition } from '@cdr-reports/object-store';
import { failAttempt, type GenerateReportDependencies, type GenerateReportResult } from './generate-report.processor';
import type { SegmentResult } from './export-segment.processor';

/**
 * The parent of a fanned-out report, run once every segment is done: joins the gzip parts, in order, into the
 * report's one file (one header: only the first part has it; gzip members concatenate into one valid file),
 * merges the summaries, checks the counts, and finishes the report as a single job would.
 */
export async function processAssembleReport(deps: GenerateReportDependencies, job: Job): Promise<GenerateReportResult> {
  const payload = parseAssembleReportPayload(job.data);
  if (!payload) throw new UnrecoverableError(`invalid assemble-report payload: ${JSON.stringify(job.data).slice(0, 200)}`);
  const { reportId, count } = payload;
  const log = deps.logger.child({ report_id: reportId, job_id: job.id, segments: count, attempt: job.attemptsMade + 1 });
  const report = await deps.reports.find(reportId);
  if (!report) throw new UnrecoverableError(`report ${reportId} does not exist`);
  const naming = reportFileNaming(reportId, report.request);
  const partsPrefix = `${naming.key}.parts/`;
  if (report.status !== 'PROCESSING') {
    await deps.export.store.deletePrefix(partsPrefix);
    log.info({ status: report.status }, 'report is no longer processing; its parts are deleted');
    return { outcome: 'aborted', status: report.status };
  }

  try {
    const results = Object.values(await job.getChildrenValues<SegmentResult>()).sort((a, b) => a.index - b.index);
    const parts = results.map((result) => result.part);
    if (results.length !== count || parts.some((part) => part === undefined) || results.some((result, index) => result.index !== index)) {
      throw new ExportIntegrityError(`expected ${count} exported segments, got ${parts.filter(Boolean).length} of ${results.length}`);
    }
    const done = parts.map((part) => part!);
    const summary = mergeSummaries(done.map((part) => part.summary));
    const items = done.reduce((total, part) => total + part.items, 0);
    if (items !== summary.records) throw new ExportIntegrityError(`segments wrote ${items} rows but their summaries count ${summary.records}`);

    const stored = await deps.export.store.concatenate(
      done.map((part) => part.key),
      naming.key,
      { contentType: naming.contentType, contentDisposition: attachmentDisposition(naming.name) },
    );
    const endTime = new Date();
    const completed = await deps.reports.complete(reportId, {
      itemsCount: items,
      summary,
      fileKey: naming.key,
      file: { name: naming.name, size_bytes: stored.size, content_type: naming.contentType },
      endTime,
      expiresAt: new Date(endTime.getTime() + deps.reportTtlMs),
    });
    await deps.export.store.deletePrefix(partsPrefix);
    if (!completed.changed) {
      await deps.export.store.delete(naming.key);
      log.info('report was aborted as it finished; file deleted');
      return { outcome: 'aborted' };
    }
    await publishCallbackEvent(completed.eventId, deps.callbacks.queue, deps.callbacks.store, log);
    log.info({ items, bytes: stored.size, segments: count }, 'report assembled from its segments');
    return { outcome: 'success', items };
  } catch (error) {
    return failAttempt(deps, job, reportId, error, log);
  }
}
