import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, QUEUES } from './catalog';

/** The producer side of the deliveries queue: the runner (a report just finished), redeliver and the sweeper. */
export class DeliveryQueue {
  private readonly queue: Queue;

  /** @param retryBaseMs - DELIVERY_RETRY_BASE: the first retry's delay; each next one doubles. */
  constructor(
    connection: Redis,
    prefix: string,
    private readonly retryBaseMs: number,
  ) {
    this.queue = new Queue(QUEUES.deliveries, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  /**
   * Enqueues delivery `run` of a report. The job id (report id and run) makes a repeated enqueue of the same run
   * a no-op while its job exists, so the sweeper may race the runner safely.
   */
  async enqueue(reportId: string, run: number): Promise<void> {
    const options = JOBS['deliver-report'].options;
    await this.queue.add('deliver-report', { reportId, run }, { ...options, backoff: { type: 'exponential', delay: this.retryBaseMs }, jobId: `${reportId}.${run}` });
  }

  /** The state of a run's job, or undefined when there is none (lost, or removed after it finished). */
  async jobState(reportId: string, run: number): Promise<string | undefined> {
    const job = await this.queue.getJob(`${reportId}.${run}`);
    return job ? await job.getState() : undefined;
  }

  /** Removes a run's finished job, so the run can be enqueued again under the same id. */
  async removeFinished(reportId: string, run: number): Promise<void> {
    const job = await this.queue.getJob(`${reportId}.${run}`);
    if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
