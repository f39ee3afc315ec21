import type { JobHandler, SegmentResult } from '@cdr-reports/jobs';
import type { ReportDelivery, ReportRunner } from '@cdr-reports/report-runner';
import { attemptOf, settle } from './report-job-attempt';

/** generate-report: one report, built by the runner (in the standard lane, triaged first). */
export function generateReport(runner: ReportRunner, lane: 'standard' | 'large'): JobHandler<'generate-report'> {
  return async (job, token, signal) => settle(job, token, await runner.generate(job.data.reportId, attemptOf(job, signal, true), lane));
}

/** export-segment: one time segment of a fanned-out report. */
export function exportSegment(runner: ReportRunner): JobHandler<'export-segment'> {
  return async (job, token, signal) => settle(job, token, await runner.exportSegment(job.data, attemptOf(job, signal)));
}

/** assemble-report: the parent of a fanned-out report's segments, run once all of them are done. */
export function assembleReport(runner: ReportRunner): JobHandler<'assemble-report'> {
  return async (job, token, signal) => {
    const segments = Object.values(await job.getChildrenValues<SegmentResult>());
    return settle(job, token, await runner.assemble(job.data.reportId, job.data.count, segments, attemptOf(job, signal)));
  };
}

/** deliver-report: copies a finished report's files and manifest into its destination (one delivery run). */
export function deliverReport(delivery: ReportDelivery): JobHandler<'deliver-report'> {
  return async (job, _token, signal) => delivery.deliver(job.data.reportId, job.data.run, attemptOf(job, signal));
}
