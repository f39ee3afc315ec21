import type { Job } from 'bullmq';
import { requeueJob } from '@cdr-reports/jobs';
import type { Attempt, RunOutcome, SegmentOutcome } from '@cdr-reports/report-runner';

/** How long a report capped by its account's running reports waits before it asks again. */
const ACCOUNT_SLOT_RETRY_MS = 2_000;

/** The runner's view of a BullMQ job's attempt. */
export function attemptOf(job: Job, signal: AbortSignal | undefined, withProgress = false): Attempt {
  return {
    jobId: job.id,
    number: job.attemptsMade + 1,
    max: job.opts.attempts ?? 1,
    signal,
    ...(withProgress && { onProgress: (progress) => job.updateProgress(progress).catch(() => undefined) }),
  };
}

/**
 * Turns the runner's "not now" outcomes into BullMQ moves: back to wait for the account's slot, or back to the
 * queue at once for another worker. Neither spends an attempt. Any other outcome is the job's result.
 */
export async function settle<R>(job: Job, token: string | undefined, outcome: R | { outcome: 'wait-for-slot' } | { outcome: 'handed-back' }): Promise<Exclude<R, { outcome: 'wait-for-slot' | 'handed-back' }>> {
  const next = (outcome as { outcome?: string }).outcome;
  if (next === 'wait-for-slot') return requeueJob(job, token, ACCOUNT_SLOT_RETRY_MS);
  if (next === 'handed-back') return requeueJob(job, token, 0);
  return outcome as Exclude<R, { outcome: 'wait-for-slot' | 'handed-back' }>;
}

export type { RunOutcome, SegmentOutcome };
