import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { AccountsRepository, CallbacksRepository, ReportsRepository } from '@cdr-reports/db';
import type { ReportError, ReportRequest } from '@cdr-reports/domain';
import { exportReport, type ExportDependencies } from '@cdr-reports/export';
import { parseGenerateReportPayload, publishCallbackEvent, type CallbackQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';

export interface GenerateReportDependencies {
  reports: ReportsRepository;
  accounts: AccountsRepository;
  /** Where terminal events go: recorded with the terminal state, then handed to the notifier's queue. */
  callbacks: { queue: CallbackQueue; store: CallbacksRepository };
  export: ExportDependencies;
  /** How long a finished file can be downloaded, in milliseconds. */
  reportTtlMs: number;
  logger: Logger;
  /** How often the worker looks for an abort (DELETE) while it works. Default 1 s. */
  abortPollMs?: number;
  /** Aborted when the worker must hand its running reports back (its shutdown deadline is near). */
  release?: AbortSignal;
  /** At most this many reports of one account run at once; the others wait PENDING (REPORT_ACCOUNT_CONCURRENCY). */
  accountConcurrency?: number;
  /**
   * For jobs of the standard lane: estimates a report's rows and, above the threshold, moves it to the large
   * lane before it starts (see run-worker). Absent for the large lane.
   */
  triage?: {
    largeRows: number;
    /** Reports estimated above this many rows (gzip only) are fanned out into segments. */
    fanOutRows: number;
    /** Rows per segment aimed at when fanning out. */
    segmentRows: number;
    estimateRows(request: ReportRequest, accountIds: readonly string[]): Promise<number>;
    moveToLargeLane(reportId: string): Promise<void>;
    fanOut(reportId: string, request: ReportRequest, segments: number): Promise<void>;
  };
}

/** `bytes` and `seconds` when this job wrote the file itself (not when it assembled a fanned-out report's parts). */
export type GenerateReportResult = { outcome: 'success'; items: number; bytes?: number; seconds?: number } | { outcome: 'skipped' | 'aborted' | 'moved-to-large-lane' | 'fanned-out'; status?: string; estimatedRows?: number };

/** The most segments one report is split into. */
const MAX_SEGMENTS = 64;

/** The worker's release signal came: the job goes back to the queue for another worker, no attempt spent. */
export class ReleasedError extends Error {
  override name = 'ReleasedError';
}

/**
 * Builds one report. Idempotent: a re-run (retry, stall, redeploy) starts the file again from scratch and
 * replaces the object whole; the report reads SUCCESS only once the complete file is stored.
 */
export async function processGenerateReport(deps: GenerateReportDependencies, job: Job, token?: string): Promise<GenerateReportResult> {
  const payload = parseGenerateReportPayload(job.data);
  if (!payload) throw new UnrecoverableError(`invalid generate-report payload: ${JSON.stringify(job.data).slice(0, 200)}`);
  const { reportId } = payload;
  const log = deps.logger.child({ report_id: reportId, job_id: job.id, attempt: job.attemptsMade + 1 });

  if (deps.triage) {
    // A report estimated large leaves the standard lane before it starts: small reports never wait behind it.
    const pending = await deps.reports.find(reportId);
    if (pending?.status === 'PENDING') {
      const estimatedRows = await deps.triage.estimateRows(pending.request, await accountIdsOf(deps, pending.request));
      if (estimatedRows > deps.triage.fanOutRows && pending.request.compression === 'gzip' && pending.request.type !== 'usage') {
        // Segments any worker can take, joined into one file at the end.
        const segments = Math.min(MAX_SEGMENTS, Math.max(2, Math.ceil(estimatedRows / deps.triage.segmentRows)));
        const started = await deps.reports.startProcessing(reportId, deps.accountConcurrency);
        if (started === 'capped') return waitForAccountSlot(job, token, log);
        if (!started) return { outcome: 'skipped' };
        await deps.triage.fanOut(reportId, pending.request, segments);
        log.info({ estimated_rows: estimatedRows, segments }, 'report fanned out into segments');
        return { outcome: 'fanned-out', estimatedRows };
      }
      if (estimatedRows > deps.triage.largeRows) {
        await deps.triage.moveToLargeLane(reportId);
        log.info({ estimated_rows: estimatedRows }, 'report moved to the large lane');
        return { outcome: 'moved-to-large-lane', estimatedRows };
      }
    }
  }

  const report = await deps.reports.startProcessing(reportId, deps.accountConcurrency);
  if (report === 'capped') return waitForAccountSlot(job, token, log);
  if (!report) {
    log.info('report is no longer pending or processing; nothing to do');
    return { outcome: 'skipped' };
  }
  const { request } = report;
  const accountIds = await accountIdsOf(deps, request);

  const controller = new AbortController();
  const stopReleaseWatch = abortOnRelease(deps.release, controller);
  const poll = watchForAbort(deps, reportId, controller);

  const started = Date.now();
  try {
    const result = await exportReport(deps.export, {
      reportId,
      request,
      accountIds,
      signal: controller.signal,
      onProgress: async (progress) => {
        const status = await deps.reports.recordProgress(reportId, progress.items, progress.percent);
        if (status !== 'PROCESSING') controller.abort();
        await job.updateProgress(progress).catch(() => undefined);
      },
    });
    const endTime = new Date();
    const completed = await deps.reports.complete(reportId, {
      ...result,
      endTime,
      expiresAt: new Date(endTime.getTime() + deps.reportTtlMs),
    });
    if (!completed.changed) {
      // Aborted between the upload and now: the file must not outlive the report.
      await deps.export.store.delete(result.fileKey);
      log.info('report was aborted as it finished; file deleted');
      return { outcome: 'aborted' };
    }
    await publishCallbackEvent(completed.eventId, deps.callbacks.queue, deps.callbacks.store, log);
    const seconds = (Date.now() - started) / 1000;
    log.info({ items: result.itemsCount, bytes: result.file.size_bytes, seconds, rows_per_second: Math.round(result.itemsCount / seconds) }, 'report finished');
    return { outcome: 'success', items: result.itemsCount, bytes: result.file.size_bytes, seconds };
  } catch (error) {
    if (controller.signal.reason instanceof ReleasedError) return handBack(job, token, log, 'report');
    if (controller.signal.aborted) {
      log.info('report aborted; upload cancelled, no file left');
      return { outcome: 'aborted' };
    }
    return failAttempt(deps, job, reportId, error, log);
  } finally {
    clearInterval(poll);
    stopReleaseWatch();
  }
}

/** How long a report capped by its account's running reports waits before it asks again. */
const ACCOUNT_SLOT_RETRY_MS = 2_000;

/**
 * The account already runs its share of reports: this one goes back to wait, still PENDING, no attempt spent,
 * and the slot goes to whatever job comes next (another account's report is not held up behind it).
 */
async function waitForAccountSlot(job: Job, token: string | undefined, log: Logger): Promise<never> {
  await job.moveToDelayed(Date.now() + ACCOUNT_SLOT_RETRY_MS, token);
  log.debug('account has its share of reports running; this one waits');
  throw new DelayedError();
}

/** Aborts `controller` with a ReleasedError once the worker's release signal comes; call the result when done. */
export function abortOnRelease(release: AbortSignal | undefined, controller: AbortController): () => void {
  const onRelease = () => controller.abort(new ReleasedError('the worker is shutting down'));
  if (release?.aborted) onRelease();
  release?.addEventListener('abort', onRelease);
  return () => release?.removeEventListener('abort', onRelease);
}

/**
 * Back to the queue at once, not an attempt: the report stays PROCESSING and another worker starts the job
 * again. Always throws BullMQ's DelayedError, which tells the worker the job was moved.
 */
export async function handBack(job: Job, token: string | undefined, log: Logger, what: 'report' | 'segment'): Promise<never> {
  await job.moveToDelayed(Date.now(), token);
  log.info(`${what} handed back to the queue: the worker is shutting down; no file left`);
  throw new DelayedError();
}

/** Aborts `controller` once the report leaves PROCESSING (a DELETE); clearInterval the result when done. */
export function watchForAbort(deps: Pick<GenerateReportDependencies, 'reports' | 'abortPollMs'>, reportId: string, controller: AbortController): NodeJS.Timeout {
  return setInterval(() => {
    deps.reports.find(reportId).then(
      (current) => {
        if (current && current.status !== 'PROCESSING') controller.abort();
      },
      () => undefined,
    );
  }, deps.abortPollMs ?? 1_000);
}

/**
 * After a failed attempt (of a report, or of a segment of one): when no retry is left, or none can help, the
 * report is FAILED with a reason and its callback event; otherwise the job is retried. Always throws.
 */
export async function failAttempt(
  deps: Pick<GenerateReportDependencies, 'reports' | 'callbacks'>,
  job: Job,
  reportId: string,
  error: unknown,
  log: Logger,
): Promise<never> {
  const reason = describeFailure(error);
  // A request the store refuses fails the same way every time: no retry.
  const unrecoverable = error instanceof UnrecoverableError || reason.code === 'INVALID_REQUEST';
  if (unrecoverable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
    const failed = await deps.reports.fail(reportId, reason);
    await publishCallbackEvent(failed.eventId, deps.callbacks.queue, deps.callbacks.store, log);
    log.error({ err: error, code: reason.code }, 'report failed');
    if (unrecoverable && !(error instanceof UnrecoverableError)) throw new UnrecoverableError(reason.message);
  } else {
    log.warn({ err: error, code: reason.code }, 'report attempt failed; it will be retried');
  }
  throw error;
}

/** The accounts whose records a report covers: its account, with every descendant when asked. */
export async function accountIdsOf(deps: GenerateReportDependencies, request: ReportRequest): Promise<string[]> {
  return request.include_subaccounts ? (await deps.accounts.selfAndDescendants(request.account_id)).map((a) => a.id) : [request.account_id];
}

/** A failure in terms a user can act on: what went wrong and whether asking again may help. */
export function describeFailure(error: unknown): ReportError {
  const code = (error as { code?: string }).code;
  const name = (error as { name?: string }).name ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === '22023' || /time zone/i.test(message)) {
    return { code: 'INVALID_REQUEST', message: `the database rejected the request: ${message}` };
  }
  // The AWS SDK's errors carry $metadata: whatever their code (ECONNREFUSED included), the storage failed.
  if ((error as { $metadata?: unknown }).$metadata !== undefined) {
    return { code: 'STORAGE_UNAVAILABLE', message: 'the report file could not be stored; create the report again later' };
  }
  // 'not queryable': the connection died while the client was between queries (see createPool).
  if (code?.startsWith('08') || code === 'ECONNREFUSED' || code === '57P01' || /Connection terminated|not queryable/i.test(message)) {
    return { code: 'DATABASE_UNAVAILABLE', message: 'the CDR store could not be read; create the report again later' };
  }
  if (/S3|bucket|Upload|socket|ECONNRESET|ETIMEDOUT/i.test(`${name} ${message}`)) {
    return { code: 'STORAGE_UNAVAILABLE', message: 'the report file could not be stored; create the report again later' };
  }
  if (name === 'ExportIntegrityError') return { code: 'INTEGRITY_CHECK_FAILED', message };
  return { code: 'EXPORT_FAILED', message: `the report could not be built: ${message.slice(0, 300)}` };
}
