import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, QUEUES } from './catalog';

/** The producer side of the reports queue: what the API and the sweeper use. */
export class ReportQueue {
  private readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(QUEUES.reports, { connection, prefix });
    // Errors reach the caller through the failed call; without a listener the process would die on one.
    this.queue.on('error', () => undefined);
  }

  /** Enqueues a report's job; enqueuing a report whose job still exists does nothing (jobId = report id). */
  async enqueue(reportId: string): Promise<void> {
    await this.queue.add('generate-report', { reportId }, { ...JOBS['generate-report'].options, jobId: reportId });
  }

  /** Removes the report's job if it has not started; an active job stops by itself when it sees the abort. */
  async removeIfWaiting(reportId: string): Promise<void> {
    const job = await this.queue.getJob(reportId);
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
      await job.remove().catch(() => undefined);
    }
  }

  /** The state of the report's job, or undefined when there is none. With the failure reason for failed jobs. */
  async jobState(reportId: string): Promise<{ state: string; failedReason?: string } | undefined> {
    const job = await this.queue.getJob(reportId);
    if (!job) return undefined;
    const state = await job.getState();
    return state === 'failed' ? { state, failedReason: job.failedReason } : { state };
  }

  /** Removes a finished (failed or completed) job, so the report can be enqueued again under the same id. */
  async removeFinished(reportId: string): Promise<void> {
    const job = await this.queue.getJob(reportId);
    if (job && (await job.isCompleted() || await job.isFailed())) await job.remove().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
