import { Readable } from 'node:stream';
import type { DestinationsRepository, ReportsRepository } from '@cdr-reports/db';
import { DestinationError, openDestination, type DestinationSession } from '@cdr-reports/destinations';
import { MANIFEST_NAME, UnrecoverableJobError, buildManifest, manifestBytes, describeFailure, isRetryable, renderKeyTemplate, type Manifest, type ReportRecord } from '@cdr-reports/domain';
import { REPORT_FILE_NAME } from '@cdr-reports/export';
import type { CallbackOutbox, DeliveryQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import type { AddressPolicy } from '@cdr-reports/webhooks';
import type { Attempt } from './report-attempt';

export interface ReportDeliveryDependencies {
  reports: ReportsRepository;
  destinations: DestinationsRepository;
  /** Our bucket, where the report's files are read from. */
  store: ObjectStore;
  queue: DeliveryQueue;
  outbox: CallbackOutbox;
  /** Which addresses a destination may reach (checked again at connect time). */
  policy: AddressPolicy;
  logger: Logger;
  now?: () => Date;
}

export type DeliveryOutcome = { outcome: 'delivered'; files: number } | { outcome: 'failed' } | { outcome: 'skipped' };

/**
 * Copies a SUCCESS report's files, then its manifest, from our bucket into the customer's storage (the report's
 * destination), streaming each file (constant memory whatever its size). The report's report.completed callback
 * waits for this (or report.delivery_failed says why it failed). Idempotent: a re-run writes the same keys again.
 *
 * Order matters to a reader of the destination: the previous manifest in the folder (a schedule's earlier run of
 * the same period) is removed first, the files are written, the new manifest last, and only then the stale files of
 * the earlier run are deleted. A manifest present means every file it lists is there and complete.
 */
export class ReportDelivery {
  constructor(private readonly deps: ReportDeliveryDependencies) {}

  /** Enqueues delivery `run` of a report; never throws (the sweeper enqueues a PENDING delivery without a job). */
  async enqueue(reportId: string, run: number): Promise<void> {
    try {
      await this.deps.queue.enqueue(reportId, run);
    } catch (error) {
      this.deps.logger.warn({ err: error, report_id: reportId, run }, 'delivery recorded but not enqueued; the sweeper will');
    }
  }

  /**
   * Runs delivery `run` of a report. A failure no retry can help (authentication, permission, a missing bucket, a
   * wrong host key, the files expired) ends it FAILED at once with the step named; other failures are retried by the
   * job, and end it FAILED when the attempts are spent.
   */
  async deliver(reportId: string, run: number, attempt: Attempt): Promise<DeliveryOutcome> {
    const log = this.deps.logger.child({ report_id: reportId, delivery_run: run, job_id: attempt.jobId, attempt: attempt.number });
    const report = await this.deps.reports.find(reportId);
    if (!report?.delivery || report.delivery.run !== run || report.delivery.state !== 'PENDING') {
      log.info({ state: report?.delivery?.state }, 'delivery is not pending (ended, or a newer run started); nothing to do');
      return { outcome: 'skipped' };
    }
    const now = this.now();
    if (report.status !== 'SUCCESS' || !report.files || (report.expiresAt && report.expiresAt <= now) || report.fileDeletedAt) {
      return this.end(report, run, { delivered: false, step: 'read', message: `the report's files are no longer kept (status ${report.status}); nothing to deliver` }, log);
    }
    const destination = await this.deps.destinations.connection(report.delivery.destinationId);
    if (!destination) {
      return this.end(report, run, { delivered: false, step: 'connect', message: `destination ${report.delivery.destinationId} was deleted` }, log);
    }

    let session: DestinationSession | undefined;
    try {
      session = await openDestination(destination, { policy: this.deps.policy });
      const folder = renderKeyTemplate(destination.key_template, {
        account_id: report.accountId,
        request_id: report.id,
        product: report.request.product,
        schedule_id: report.scheduleId ?? undefined,
        period_start: report.periodStart ?? localDate(report.request.date_start, report.request.timezone),
      });
      const manifestKey = `${folder}${MANIFEST_NAME}`;
      const newKeys = new Set(report.files.map((file) => `${folder}${file.name}`));
      // What an earlier run in this folder wrote: the files its manifest lists, and files named like ours.
      const previous = new Set<string>();
      for await (const key of session.list(folder)) {
        if (key !== manifestKey && REPORT_FILE_NAME.test(key.slice(folder.length)) && !newKeys.has(key)) previous.add(key);
      }
      await session.delete(manifestKey);
      // What an earlier attempt killed mid-write left (SFTP temporary files, S3 unfinished uploads).
      await session.removeAbandonedWrites(folder);

      for (const file of report.files) {
        const body = await this.deps.store.getStream(file.key);
        if (!body) throw new UnrecoverableJobError(`file ${file.key} of report ${report.id} is missing from the bucket`);
        const written = await session.write(`${folder}${file.name}`, body, { contentType: file.content_type });
        if (written.size !== file.size_bytes) {
          throw new Error(`wrote ${written.size} bytes of ${file.name} into the destination, expected ${file.size_bytes}`);
        }
        await this.deps.reports.touchDelivery(report.id);
      }
      const manifest: Manifest = buildManifest(
        { id: report.id, accountId: report.accountId, request: report.request, summary: report.summary!, itemsCount: report.itemsCount ?? 0 },
        report.files,
        (file) => session!.location(`${folder}${file.name}`),
        now,
      );
      await session.write(manifestKey, Readable.from([manifestBytes(manifest)]), { contentType: 'application/json' });
      for (const key of previous) await session.delete(key);

      log.info({ files: report.files.length, manifest: session.location(manifestKey), stale_removed: previous.size }, 'report delivered');
      await this.end(report, run, { delivered: true, manifestKey: session.location(manifestKey), fileKeys: manifest.files.map((file) => file.key) }, log);
      return { outcome: 'delivered', files: report.files.length };
    } catch (error: unknown) {
      const retryable = error instanceof DestinationError ? error.retryable : isRetryable(error);
      const step = error instanceof DestinationError ? error.step : 'write';
      const message = error instanceof DestinationError ? error.message : describeFailure(error).message;
      if (!retryable || attempt.number >= attempt.max) {
        log.warn({ err: error, step }, 'delivery failed');
        await this.end(report, run, { delivered: false, step, message }, log);
        return { outcome: 'failed' };
      }
      log.warn({ err: error, step }, 'delivery attempt failed; it will be retried');
      throw error;
    } finally {
      await session?.close().catch(() => undefined);
    }
  }

  private async end(
    report: ReportRecord,
    run: number,
    outcome: { delivered: true; manifestKey: string; fileKeys: string[] } | { delivered: false; step: string; message: string },
    log: Logger,
  ): Promise<DeliveryOutcome> {
    const ended = await this.deps.reports.deliveryEnded(report.id, run, outcome);
    await this.deps.outbox.publish(ended.eventId);
    if (!outcome.delivered && ended.changed) log.error({ step: outcome.step, error: outcome.message }, 'delivery failed for good');
    return outcome.delivered ? { outcome: 'delivered', files: report.files?.length ?? 0 } : { outcome: 'failed' };
  }

  /** The sweeper's part: a PENDING delivery whose job vanished (Redis lost it, or it was never enqueued) is enqueued again. */
  async recoverLost(before: Date): Promise<number> {
    let requeued = 0;
    for (const pending of await this.deps.reports.stalePendingDeliveries(before, 200)) {
      const state = await this.deps.queue.jobState(pending.reportId, pending.run);
      if (state === undefined || state === 'completed' || state === 'failed') {
        // A failed job whose delivery is still PENDING died without ending it (a crash in between): end it here.
        if (state === 'failed') {
          const ended = await this.deps.reports.deliveryEnded(pending.reportId, pending.run, { delivered: false, step: 'write', message: 'the delivery failed after its retries' });
          await this.deps.outbox.publish(ended.eventId);
        } else {
          await this.deps.queue.removeFinished(pending.reportId, pending.run);
          await this.enqueue(pending.reportId, pending.run);
          requeued++;
        }
      }
      await this.deps.reports.touchDelivery(pending.reportId);
    }
    return requeued;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** YYYY-MM-DD of the day `instant` falls on in `timeZone`. */
function localDate(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}
