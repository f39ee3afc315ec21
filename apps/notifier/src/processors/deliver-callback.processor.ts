import { UnrecoverableError } from 'bullmq';
import type { CallbacksRepository, DeliverableEvent } from '@cdr-reports/db';
import { toReportResource } from '@cdr-reports/domain';
import { requeueJob, type JobOf, type JobResult } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import { downloadLink } from '@cdr-reports/reports';
import { deliverWebhook, type AddressPolicy, type DeliveryOutcome, type HostLimiter } from '@cdr-reports/webhooks';
import type { Dispatcher } from 'undici';

export interface DeliverCallbackDependencies {
  callbacks: CallbacksRepository;
  /** Presigns the download link carried in report.completed. */
  links: ObjectStore;
  dispatcher: Dispatcher;
  policy: AddressPolicy;
  limiter: HostLimiter;
  timeoutMs: number;
  userAgent: string;
  logger: Logger;
}

/** A failed attempt, carrying the receiver's Retry-After for the backoff strategy. */
export class DeliveryAttemptError extends Error {
  override name = 'DeliveryAttemptError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** How long a delivery waits when its host is at its limit before it looks again (not an attempt). */
const HOST_BUSY_DELAY_MS = 100;

/**
 * One attempt to deliver a callback event. The body is fixed at the first attempt and the webhook-id is the
 * event id, so every retry is the same message, signed anew. Idempotent: a delivered or failed event is left alone.
 */
export async function processDeliverCallback(deps: DeliverCallbackDependencies, job: JobOf<'deliver-callback'>, token?: string): Promise<JobResult<'deliver-callback'>> {
  const event = await deps.callbacks.forDelivery(job.data.eventId);
  if (!event) throw new UnrecoverableError(`callback event ${job.data.eventId} does not exist`);
  if (event.state !== 'pending') return { outcome: 'skipped', state: event.state };
  const log = deps.logger.child({ event_id: event.id, report_id: event.reportId, job_id: job.id });

  // A slot of the destination host, held while this delivery sends.
  const release = await deps.limiter.acquire(new URL(event.url).host);
  if (!release) {
    // The host has its share of deliveries sending and waiting: step aside without spending an attempt.
    return requeueJob(job, token, HOST_BUSY_DELAY_MS + Math.floor(Math.random() * HOST_BUSY_DELAY_MS));
  }
  let newBody: string | null;
  let outcome: DeliveryOutcome;
  try {
    // The body is built once, on the first attempt, and fixed with that attempt's record.
    newBody = event.payload === null ? await buildBody(deps, event) : null;
    outcome = await deliverWebhook(
      { url: event.url, id: event.id, body: event.payload ?? newBody!, secrets: event.secrets, userAgent: deps.userAgent },
      { dispatcher: deps.dispatcher, policy: deps.policy, timeoutMs: deps.timeoutMs },
    );
  } finally {
    release();
  }

  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const state = outcome.delivered ? 'delivered' : outcome.gone || lastAttempt ? 'failed' : 'pending';
  const attempt = await deps.callbacks.recordAttempt(
    event.id,
    { statusCode: outcome.statusCode ?? null, durationMs: outcome.durationMs, error: outcome.error ?? null },
    state,
    newBody,
  );
  if (outcome.delivered) {
    // Debug, not info: every attempt is in the callback log already, and a line per delivery costs at volume.
    log.debug({ attempt, status_code: outcome.statusCode, duration_ms: outcome.durationMs }, 'callback delivered');
    return { outcome: 'delivered', attempt };
  }
  log.warn({ attempt, status_code: outcome.statusCode, error: outcome.error }, 'callback attempt failed');
  if (outcome.gone) throw new UnrecoverableError('the receiver answered 410 Gone: no more attempts');
  throw new DeliveryAttemptError(outcome.error ?? 'delivery failed', outcome.retryAfterMs);
}

/** The event body: type, time, and the report resource exactly as GET /v1/reports/{id} shows it now. */
async function buildBody(deps: DeliverCallbackDependencies, event: DeliverableEvent): Promise<string> {
  const report = event.report;
  if (!report) throw new UnrecoverableError(`report ${event.reportId} of callback event ${event.id} does not exist`);
  const now = new Date();
  const data = toReportResource(report, now, { self: `/v1/reports/${report.id}`, download: await downloadLink(deps.links, report, now) });
  return JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data });
}
