import { AbortedError } from '@cdr-reports/domain';
import type { ExportProgress } from '@cdr-reports/export';

/**
 * The reason a worker gives BullMQ's `cancelAllJobs` when its shutdown deadline nears: every running report job
 * sees its processor signal aborted with it and goes back to the queue, no attempt spent.
 */
export const RELEASE_REASON = 'released: the worker is shutting down';

/** One attempt of a report job, as the runner needs to know it (the processor adapter fills it from the BullMQ job). */
export interface Attempt {
  jobId?: string;
  /** 1 for the first attempt. */
  number: number;
  /** The attempts the job has in all. */
  max: number;
  /** BullMQ's processor abort signal: aborted with RELEASE_REASON when the worker hands its jobs back. */
  signal?: AbortSignal;
  /** Progress for the job itself (BullMQ's job progress), after the report's is recorded. */
  onProgress?(progress: ExportProgress): Promise<void>;
}

/**
 * A running report's cancellation: aborted when the report leaves PROCESSING (a DELETE, seen by polling the
 * store, since the request may reach any API instance) or when the job's own signal is aborted.
 */
export class ReportAttempt {
  readonly signal: AbortSignal;
  private readonly own = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly jobSignal: AbortSignal | undefined,
    isAborted: () => Promise<boolean>,
    pollMs: number,
  ) {
    this.signal = jobSignal ? AbortSignal.any([jobSignal, this.own.signal]) : this.own.signal;
    this.timer = setInterval(() => {
      isAborted().then(
        (aborted) => {
          if (aborted) this.abort();
        },
        () => undefined,
      );
    }, pollMs);
  }

  /** The report was aborted: stop writing, leave no file. */
  abort(): void {
    this.own.abort(new AbortedError('the report was aborted'));
  }

  /** The worker is handing its jobs back (its shutdown deadline is near). */
  get released(): boolean {
    return this.jobSignal?.aborted === true && this.jobSignal.reason === RELEASE_REASON;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
