import { FlowProducer, Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Batcher } from '@cdr-reports/batching';
import { JOBS, QUEUES, type JobData, type JobResult } from './catalog';
import { fanOutReport, type SegmentRange } from './report-flow';

type GenerateReportQueue = Queue<JobData<'generate-report'>, JobResult<'generate-report'>, 'generate-report'>;

/** Which queue a report's job goes to: `large` for reports estimated above REPORT_LARGE_ROWS. */
export type ReportLane = 'standard' | 'large';

/** The producer side of the report queues (standard and large lanes): what the API and the sweeper use. */
export class ReportQueue {
  private readonly lanes: Record<ReportLane, GenerateReportQueue>;
  /** The parents of fanned-out reports (looked at, never added to here). */
  private readonly assembly: Queue;

  /** Made on the first fan-out: only workers fan reports out. */
  private flows: FlowProducer | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {
    this.lanes = {
      standard: new Queue<JobData<'generate-report'>, JobResult<'generate-report'>, 'generate-report'>(QUEUES.reports, { connection, prefix }),
      large: new Queue<JobData<'generate-report'>, JobResult<'generate-report'>, 'generate-report'>(QUEUES.reportsLarge, { connection, prefix }),
    };
    this.assembly = new Queue(QUEUES.reportAssembly, { connection, prefix });
    // Errors reach the caller through the failed call; without a listener the process would die on one.
    for (const queue of [...Object.values(this.lanes), this.assembly]) queue.on('error', () => undefined);
  }

  /**
   * Enqueues a report's job in a lane; enqueuing a report whose job still exists in that lane does nothing
   * (jobId = report id). Every report starts in the standard lane; the worker moves large ones on.
   */
  async enqueue(reportId: string, lane: ReportLane = 'standard'): Promise<void> {
    await this.adds[lane].call(reportId);
  }

  /** Concurrent enqueues of a lane go to Redis together, in one addBulk (see Batcher). */
  private readonly adds = {
    standard: this.addsTo('standard'),
    large: this.addsTo('large'),
  };

  private addsTo(lane: ReportLane): Batcher<string, void> {
    return new Batcher<string, void>(async (reportIds) => {
      await this.lanes[lane].addBulk(
        reportIds.map((reportId) => ({ name: 'generate-report', data: { reportId }, opts: { ...JOBS['generate-report'].options, jobId: reportId } })),
      );
      return reportIds.map(() => undefined);
    });
  }

  /**
   * Splits a report into `count` time segments any worker can take, under an assembly job that joins their parts
   * (see fanOutReport). Idempotent.
   */
  async fanOut(reportId: string, range: SegmentRange, count: number): Promise<void> {
    if (!this.flows) {
      this.flows = new FlowProducer({ connection: this.connection, prefix: this.prefix });
      this.flows.on('error', () => undefined);
    }
    await fanOutReport(this.flows, this.prefix, reportId, range, count);
  }

  /** Removes the report's job if it has not started; an active job stops by itself when it sees the abort. */
  async removeIfWaiting(reportId: string): Promise<void> {
    const job = await this.findJob(reportId);
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
      await job.remove().catch(() => undefined);
    }
  }

  /** The state of the report's job, or undefined when there is none. With the failure reason for failed jobs. */
  async jobState(reportId: string): Promise<{ state: string; failedReason?: string } | undefined> {
    const job = await this.findJob(reportId);
    if (!job) return undefined;
    const state = await job.getState();
    return state === 'failed' ? { state, failedReason: job.failedReason } : { state };
  }

  /** Removes a finished (failed or completed) job, so the report can be enqueued again under the same id. */
  async removeFinished(reportId: string): Promise<void> {
    const job = await this.findJob(reportId);
    if (job && ((await job.isCompleted()) || (await job.isFailed()))) await job.remove().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...Object.values(this.lanes), this.assembly].map((queue) => queue.close()));
    await this.flows?.close();
  }

  /**
   * The report's current job. A report moves from the standard lane on, to the large lane or into a fanned-out
   * flow (whose parent is in the assembly queue), never back: the later stage's job is the current one.
   */
  private async findJob(reportId: string): Promise<Job | undefined> {
    return (await this.assembly.getJob(reportId)) ?? (await this.lanes.large.getJob(reportId)) ?? (await this.lanes.standard.getJob(reportId));
  }
}
