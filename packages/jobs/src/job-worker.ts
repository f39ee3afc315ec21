import { DelayedError, UnrecoverableError, Worker, type Job, type WorkerOptions } from 'bullmq';
import { UnrecoverableJobError } from '@cdr-reports/domain';
import { JOBS, isJobName, type JobName, type JobOf, type JobResult, type JobsOn, type QueueName } from './catalog';

/**
 * Handles one job of kind N: its payload already checked against the catalog. `signal` is BullMQ's processor
 * abort signal (Worker.cancelJob / cancelAllJobs).
 */
export type JobHandler<N extends JobName> = (job: JobOf<N>, token: string | undefined, signal: AbortSignal | undefined) => Promise<JobResult<N>>;

/** One handler for every job the catalog puts on queue Q, and no other. */
export type JobHandlers<Q extends QueueName> = { [N in JobsOn<Q>]: JobHandler<N> };

/**
 * A BullMQ worker for queue Q that dispatches from a table of handlers. A job the catalog does not put on Q, or
 * whose payload does not parse, fails at once as unrecoverable with a message saying which; a handler's
 * UnrecoverableJobError (the domain's "no retry can fix this") fails the job without a retry too.
 */
export function createJobWorker<Q extends QueueName>(queue: Q, handlers: JobHandlers<Q>, options: WorkerOptions): Worker {
  const table = handlers as unknown as Partial<Record<JobName, (job: Job, token: string | undefined, signal: AbortSignal | undefined) => Promise<unknown>>>;
  // Three parameters: BullMQ passes the abort signal only to a processor that declares it.
  const worker: Worker = new Worker(
    queue,
    async (job: Job, token?: string, signal?: AbortSignal) => {
      // A job BullMQ fetched while the worker was already closing (a blocking fetch in flight when close() was
      // called returns it, and BullMQ then runs it rather than let it stall) goes back to the queue untouched, for
      // another worker: a worker shutting down takes no new work.
      if (worker.closing) return requeueJob(job, token, 0);
      const name = job.name;
      const handler = isJobName(name) ? table[name] : undefined;
      if (!isJobName(name) || !handler || !(JOBS[name].queues as readonly string[]).includes(queue)) {
        throw new UnrecoverableError(`unknown job "${name}" on ${queue}`);
      }
      const data = JOBS[name].parse(job.data);
      if (data === undefined) throw new UnrecoverableError(`invalid ${name} payload: ${JSON.stringify(job.data).slice(0, 200)}`);
      job.data = data;
      try {
        return await handler(job, token, signal);
      } catch (error) {
        if (error instanceof UnrecoverableJobError) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    options,
  );
  return worker;
}

/**
 * Puts the job back to wait `delayMs` without spending an attempt (an account at its share of running reports,
 * a worker handing its jobs back). Always throws BullMQ's DelayedError, which tells the worker the job was moved.
 */
export async function requeueJob(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}
