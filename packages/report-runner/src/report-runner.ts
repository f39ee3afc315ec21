import { Readable } from 'node:stream';
import type { AccountsRepository, CompletedReport, ReportsRepository } from '@cdr-reports/db';
import {
  ExportIntegrityError,
  MANIFEST_NAME,
  UnrecoverableJobError,
  buildManifest,
  manifestBytes,
  describeFailure,
  isRetryable,
  mergeSummaries,
  type ReportFileEntry,
  type ReportRecord,
  type ReportRequest,
} from '@cdr-reports/domain';
import { exportReport, isSplitFileName, reportFileNaming, sha256OfObject, type ExportDependencies, type ExportProgress, type ExportResult } from '@cdr-reports/export';
import type { CallbackOutbox, ExportSegmentPayload, ReportJobResult, ReportQueue, SegmentResult } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { attachmentDisposition } from '@cdr-reports/object-store';
import { ReportAttempt, type Attempt } from './report-attempt';
import type { ReportDelivery } from './report-delivery';
import { triage, type TriageThresholds } from './triage';

export interface ReportRunnerDependencies {
  reports: ReportsRepository;
  accounts: AccountsRepository;
  /** The report queues: lanes, fan-out, and the jobs the sweeper and DELETE look at. */
  queue: ReportQueue;
  /** Where terminal events go once recorded with the terminal state. */
  outbox: CallbackOutbox;
  /** The export pipeline: the CDR source, the object store, compression. */
  export: ExportDependencies;
  /** Copies a finished report into its destination (a report with destination_id). */
  delivery: ReportDelivery;
  /** How long a finished file can be downloaded, in milliseconds (REPORT_TTL). */
  reportTtlMs: number;
  /** Which path a report of the standard lane takes. */
  thresholds: TriageThresholds;
  /** At most this many reports of one account run at once; the others wait PENDING (REPORT_ACCOUNT_CONCURRENCY). */
  accountConcurrency?: number;
  /** How often a running report looks for an abort (DELETE). Default 1 s. */
  abortPollMs?: number;
  logger: Logger;
}

/**
 * What a report job should do next beyond its result: wait for its account's slot (still PENDING, no attempt
 * spent), or go back to the queue for another worker (this worker is shutting down).
 */
export type RunOutcome = ReportJobResult | { outcome: 'wait-for-slot' } | { outcome: 'handed-back' };
export type SegmentOutcome = SegmentResult | { outcome: 'handed-back' };

export interface SweepResult {
  filesDeleted: number;
  requeued: number;
  failed: number;
}

/** Expired files deleted per query of the sweeper. */
const SWEEP_BATCH = 100;

/**
 * The one place where a report moves between states: started, progress, completed, failed, aborted, expired,
 * handed back. Every terminal change records its callback event in the same transaction (the repository's
 * outbox) and is then published here. Job processors are adapters that call these methods.
 */
export class ReportRunner {
  constructor(private readonly deps: ReportRunnerDependencies) {}

  /**
   * Builds one report (a job of the standard or large lane). In the standard lane a report estimated large is
   * sent on first (the large lane, or segments). Idempotent: a re-run starts the file again and replaces the
   * object whole; the report reads SUCCESS only once the complete file is stored.
   */
  async generate(reportId: string, attempt: Attempt, lane: 'standard' | 'large'): Promise<RunOutcome> {
    const log = this.deps.logger.child({ report_id: reportId, job_id: attempt.jobId, attempt: attempt.number });
    // The account tree is read once per run, for the estimate and the export alike (a tree can be 20,000 accounts).
    let accountIds: string[] | undefined;
    const accountsOf = async (request: ReportRequest) => (accountIds ??= await this.accountIdsOf(request));
    if (lane === 'standard') {
      const pending = await this.deps.reports.find(reportId);
      if (pending?.status === 'PENDING') {
        const estimate = await this.deps.export.source.estimateRows({ request: pending.request, accountIds: await accountsOf(pending.request) });
        const decision = triage(pending.request, estimate, this.deps.thresholds);
        if (decision.path === 'fan-out') {
          const started = await this.deps.reports.startProcessing(reportId, this.deps.accountConcurrency);
          if (started === 'capped') return waitForSlot(log);
          if (!started) return { outcome: 'skipped' };
          const { request } = pending;
          await this.deps.queue.fanOut(reportId, { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end }, decision.segments);
          log.info({ estimated_rows: decision.estimatedRows, segments: decision.segments }, 'report fanned out into segments');
          return { outcome: 'fanned-out', estimatedRows: decision.estimatedRows };
        }
        if (decision.path === 'large-lane') {
          await this.deps.queue.enqueue(reportId, 'large');
          log.info({ estimated_rows: decision.estimatedRows }, 'report moved to the large lane');
          return { outcome: 'moved-to-large-lane', estimatedRows: decision.estimatedRows };
        }
      }
    }

    const report = await this.deps.reports.startProcessing(reportId, this.deps.accountConcurrency);
    if (report === 'capped') return waitForSlot(log);
    if (!report) {
      log.info('report is no longer pending or processing; nothing to do');
      return { outcome: 'skipped' };
    }
    const run = this.watch(reportId, attempt);
    const started = Date.now();
    try {
      const result = await exportReport(this.deps.export, {
        reportId,
        request: report.request,
        accountIds: await accountsOf(report.request),
        signal: run.signal,
        limits: fileLimits(report.request),
        onProgress: async (progress: ExportProgress) => {
          const status = await this.deps.reports.recordProgress(reportId, progress.items, progress.percent);
          if (status !== 'PROCESSING') run.abort();
          await attempt.onProgress?.(progress);
        },
      });
      if (!(await this.complete(report, result, log))) return { outcome: 'aborted' };
      const seconds = (Date.now() - started) / 1000;
      log.info({ items: result.itemsCount, bytes: result.file.size_bytes, seconds, rows_per_second: Math.round(result.itemsCount / seconds) }, 'report finished');
      return { outcome: 'success', items: result.itemsCount, bytes: result.file.size_bytes, seconds };
    } catch (error) {
      if (run.released) return handBack(log, 'report');
      if (run.aborted) {
        log.info('report aborted; upload cancelled, no file left');
        return { outcome: 'aborted' };
      }
      return this.failAttempt(reportId, error, attempt, log);
    } finally {
      run.stop();
    }
  }

  /**
   * Exports one time segment of a fanned-out report as a gzip part (the first one with the header). Retried on
   * its own; when its attempts are spent the report fails, and the flow fails its parent.
   */
  async exportSegment(segment: ExportSegmentPayload, attempt: Attempt): Promise<SegmentOutcome> {
    const { reportId, index, count } = segment;
    const log = this.deps.logger.child({ report_id: reportId, job_id: attempt.jobId, segment: index, segments: count, attempt: attempt.number });
    const report = await this.deps.reports.find(reportId);
    if (report?.status !== 'PROCESSING') {
      log.info({ status: report?.status }, 'report is no longer processing; segment skipped');
      return { index };
    }
    const run = this.watch(reportId, attempt);
    try {
      const key = segmentKey(reportFileNaming(reportId, report.request).key, index);
      const result = await exportReport(this.deps.export, {
        reportId,
        request: report.request,
        accountIds: await this.accountIdsOf(report.request),
        signal: run.signal,
        onProgress: async () => undefined,
        part: { range: { from: new Date(segment.from), to: new Date(segment.to), fromText: segment.fromText, toText: segment.toText }, header: index === 0, key },
      });
      await this.deps.reports.addProgress(reportId, result.itemsCount, 100 / count);
      log.info({ items: result.itemsCount, bytes: result.file.size_bytes }, 'segment exported');
      return { index, part: { key, size: result.file.size_bytes, items: result.itemsCount, summary: result.summary } };
    } catch (error) {
      if (run.released) return handBack(log, 'segment');
      if (run.aborted) {
        log.info('report aborted; segment upload cancelled');
        return { index };
      }
      return this.failAttempt(reportId, error, attempt, log);
    } finally {
      run.stop();
    }
  }

  /**
   * Runs once every segment of a fanned-out report is done: joins the gzip parts, in order, into the report's one
   * file (only the first part has the header; gzip members concatenate into one valid file), merges the
   * summaries, checks the counts, and completes the report as a single job would.
   */
  async assemble(reportId: string, count: number, segments: readonly SegmentResult[], attempt: Attempt): Promise<RunOutcome> {
    const log = this.deps.logger.child({ report_id: reportId, job_id: attempt.jobId, segments: count, attempt: attempt.number });
    const report = await this.deps.reports.find(reportId);
    if (!report) throw new UnrecoverableJobError(`report ${reportId} does not exist`);
    const store = this.deps.export.store;
    const naming = reportFileNaming(reportId, report.request);
    const partsPrefix = `${naming.key}.parts/`;
    if (report.status !== 'PROCESSING') {
      await store.deletePrefix(partsPrefix);
      log.info({ status: report.status }, 'report is no longer processing; its parts are deleted');
      return { outcome: 'aborted', status: report.status };
    }
    try {
      const results = [...segments].sort((a, b) => a.index - b.index);
      const parts = results.map((result) => result.part);
      if (results.length !== count || parts.some((part) => part === undefined) || results.some((result, index) => result.index !== index)) {
        throw new ExportIntegrityError(`expected ${count} exported segments, got ${parts.filter(Boolean).length} of ${results.length}`);
      }
      const done = parts.map((part) => part!);
      const summary = mergeSummaries(done.map((part) => part.summary));
      const items = done.reduce((total, part) => total + part.items, 0);
      if (items !== summary.records) throw new ExportIntegrityError(`segments wrote ${items} rows but their summaries count ${summary.records}`);
      const stored = await store.concatenate(
        done.map((part) => part.key),
        naming.key,
        { contentType: naming.contentType, contentDisposition: attachmentDisposition(naming.name) },
      );
      // Joined inside the store: its hash is read back once (a local stream, a fraction of the export's time).
      const file: ReportFileEntry = { key: naming.key, name: naming.name, rows: items, size_bytes: stored.size, sha256: await sha256OfObject(store, naming.key), content_type: naming.contentType };
      const completed = await this.complete(
        report,
        { itemsCount: items, summary, fileKey: naming.key, file: { name: naming.name, size_bytes: stored.size, content_type: naming.contentType }, files: [file] },
        log,
      );
      await store.deletePrefix(partsPrefix);
      if (!completed) return { outcome: 'aborted' };
      log.info({ items, bytes: stored.size, segments: count }, 'report assembled from its segments');
      return { outcome: 'success', items };
    } catch (error) {
      return this.failAttempt(reportId, error, attempt, log);
    }
  }

  /**
   * DELETE of a PENDING or PROCESSING report: ABORTED with its callback event; a worker building it stops at its
   * next look (and leaves no file), a job not started yet is removed. Repeating it changes nothing.
   */
  async abort(reportId: string): Promise<void> {
    const aborted = await this.deps.reports.abort(reportId);
    if (aborted.changed) await this.deps.queue.removeIfWaiting(reportId).catch(() => undefined);
    await this.deps.outbox.publish(aborted.eventId);
  }

  /** DELETE of a finished report: its files and manifest are deleted now and it reads EXPIRED. */
  async expireNow(report: ReportRecord): Promise<void> {
    if (report.status !== 'SUCCESS' || !report.fileKey) return;
    await this.deleteObjects(report);
    await this.deps.reports.expireNow(report.id);
    await this.deps.reports.markFileDeleted(report.id);
  }

  /**
   * POST /v1/reports/{id}/redeliver: a new delivery of a SUCCESS report into its destination, while its files are
   * kept. Returns the run, or why not.
   */
  async redeliver(report: ReportRecord, now = new Date()): Promise<{ run: number } | 'expired' | 'in-progress' | 'no-destination'> {
    const started = await this.deps.reports.startRedelivery(report.id, now);
    if (typeof started === 'object') await this.deps.delivery.enqueue(report.id, started.run);
    return started;
  }

  /**
   * FAILED with a reason and its callback event, whatever state the report is in but a terminal one (the
   * sweeper, for a report whose job failed for good outside a worker). Returns whether it changed.
   */
  async fail(reportId: string, reason: { code: string; message: string }, log: Logger = this.deps.logger): Promise<boolean> {
    const failed = await this.deps.reports.fail(reportId, reason);
    await this.deps.outbox.publish(failed.eventId);
    if (failed.changed) log.error({ report_id: reportId, code: reason.code }, 'report failed');
    return failed.changed;
  }

  /**
   * The sweeper's pass: keeps two promises. Files do not outlive expires_at (the bucket's lifecycle rule is only
   * the backstop), and no accepted report is silently lost: a report whose job vanished is enqueued again, one
   * whose job failed for good is FAILED with the job's reason. Idempotent.
   */
  async sweep(now = new Date(), options: { staleAfterMs?: number } = {}): Promise<SweepResult> {
    const result: SweepResult = { filesDeleted: 0, requeued: 0, failed: 0 };
    for (;;) {
      const expired = await this.deps.reports.filesToDelete(now, SWEEP_BATCH);
      for (const report of expired) {
        await this.deleteObjects(report);
        await this.deps.reports.markFileDeleted(report.id);
        result.filesDeleted++;
      }
      if (expired.length < SWEEP_BATCH) break;
    }

    const stale = await this.deps.reports.staleOpenReports(new Date(now.getTime() - (options.staleAfterMs ?? 120_000)), 500);
    for (const report of stale) {
      const job = await this.deps.queue.jobState(report.id);
      if (job === undefined || job.state === 'completed') {
        await this.deps.queue.removeFinished(report.id);
        await this.deps.queue.enqueue(report.id);
        result.requeued++;
      } else if (job.state === 'failed') {
        const reason = `the report could not be built after its retries: ${(job.failedReason ?? 'unknown reason').slice(0, 300)}`;
        if (await this.fail(report.id, { code: 'EXPORT_FAILED', message: reason })) result.failed++;
      }
      await this.deps.reports.touch(report.id);
    }
    result.requeued += await this.deps.delivery.recoverLost(new Date(now.getTime() - (options.staleAfterMs ?? 120_000)));
    if (result.filesDeleted + result.requeued + result.failed > 0) this.deps.logger.info(result, 'report sweeper');
    return result;
  }

  /** Starts a new delivery of a report's callback event (same webhook-id and body); returns its number. */
  async redeliverCallback(eventId: string): Promise<number> {
    return this.deps.outbox.redeliver(eventId);
  }

  /**
   * The accounts whose records a report covers: the listed account_ids (authorized when the report was created),
   * else its account with every descendant when asked (ids read from the account closure), else its account.
   */
  async accountIdsOf(request: ReportRequest): Promise<string[]> {
    if (request.account_ids) return request.account_ids;
    return request.include_subaccounts ? this.deps.accounts.descendantIds(request.account_id) : [request.account_id];
  }

  /**
   * Writes the manifest next to the files (last: its presence means the report is complete), then PROCESSING ->
   * SUCCESS with its event, or with its delivery started (a report with a destination). False (and the objects
   * deleted) when the report was aborted meanwhile.
   */
  private async complete(report: ReportRecord, result: ExportResult, log: Logger): Promise<boolean> {
    const endTime = new Date();
    const manifest = buildManifest({ id: report.id, accountId: report.accountId, request: report.request, summary: result.summary, itemsCount: result.itemsCount }, result.files, (file) => file.key, endTime);
    const folder = result.fileKey.slice(0, result.fileKey.lastIndexOf('/') + 1);
    const manifestKey = `${folder}${MANIFEST_NAME}`;
    // Split files an earlier, crashed attempt stored beyond this one's: the folder holds exactly the report's files.
    // Only a split report can have them, so only its folder is listed (one request less for every other report).
    if (fileLimits(report.request)) {
      const keep = new Set(result.files.map((file) => file.key));
      for await (const object of this.deps.export.store.list(folder)) {
        if (isSplitFileName(object.key.slice(folder.length)) && !keep.has(object.key)) await this.deps.export.store.delete(object.key);
      }
    }
    await this.deps.export.store.putStream(manifestKey, Readable.from([manifestBytes(manifest)]), { contentType: 'application/json' });
    const done: CompletedReport = { ...result, manifestKey, manifest, endTime, expiresAt: new Date(endTime.getTime() + this.deps.reportTtlMs) };
    const completed = await this.deps.reports.complete(report.id, done);
    if (!completed.changed) {
      // Aborted between the upload and now: the files must not outlive the report.
      await this.deleteObjects({ fileKey: result.fileKey, files: result.files, manifestKey });
      log.info('report was aborted as it finished; files deleted');
      return false;
    }
    await this.deps.outbox.publish(completed.eventId);
    if (completed.delivery) await this.deps.delivery.enqueue(report.id, completed.delivery.run);
    return true;
  }

  /** Deletes every object of a report in our bucket: its files and its manifest. */
  private async deleteObjects(report: Pick<ReportRecord, 'fileKey' | 'files' | 'manifestKey'>): Promise<void> {
    const keys = new Set([...(report.files ?? []).map((file) => file.key), ...(report.fileKey ? [report.fileKey] : []), ...(report.manifestKey ? [report.manifestKey] : [])]);
    for (const key of keys) await this.deps.export.store.delete(key);
  }

  /**
   * After a failed attempt (of a report, or of a segment of one): when no retry is left, or none can help, the
   * report is FAILED with a reason and its callback event; otherwise the job is retried. Always throws: an
   * UnrecoverableJobError when no retry can help, so the job is not tried again.
   */
  private async failAttempt(reportId: string, error: unknown, attempt: Attempt, log: Logger): Promise<never> {
    const reason = describeFailure(error);
    const retryable = isRetryable(error);
    if (!retryable || attempt.number >= attempt.max) {
      await this.fail(reportId, reason, log.child({ err: error }));
      if (!retryable) throw new UnrecoverableJobError(reason.message, reason.code, { cause: error });
    } else {
      log.warn({ err: error, code: reason.code }, 'report attempt failed; it will be retried');
    }
    throw error;
  }

  /** Watches a running report for an abort (DELETE) and for the worker's hand-back signal. */
  private watch(reportId: string, attempt: Attempt): ReportAttempt {
    return new ReportAttempt(attempt.signal, async () => {
      const current = await this.deps.reports.find(reportId);
      return current !== undefined && current.status !== 'PROCESSING';
    }, this.deps.abortPollMs ?? 1_000);
  }
}

/** The request's split limits, for the exporter; undefined for one file. */
function fileLimits(request: ReportRequest): { maxFileRows?: number; maxFileBytes?: number } | undefined {
  if (request.max_file_rows === undefined && request.max_file_bytes === undefined) return undefined;
  return { maxFileRows: request.max_file_rows, maxFileBytes: request.max_file_bytes };
}

/** Where segment `index` of a report is stored until the assembly joins the parts. */
export function segmentKey(reportKey: string, index: number): string {
  return `${reportKey}.parts/${String(index).padStart(4, '0')}.csv.gz`;
}

function waitForSlot(log: Logger): RunOutcome {
  log.debug('account has its share of reports running; this one waits');
  return { outcome: 'wait-for-slot' };
}

function handBack(log: Logger, what: 'report' | 'segment'): { outcome: 'handed-back' } {
  log.info(`${what} handed back to the queue: the worker is shutting down; no file left`);
  return { outcome: 'handed-back' };
}
