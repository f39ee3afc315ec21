import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, type JobName } from './catalog';

/**
 * Upserts every job scheduler in the catalog. Call it from one place (the migrate step that runs
 * before the apps start), not from every worker replica at boot.
 */
export async function upsertSchedules(connection: Redis, prefix: string): Promise<JobName[]> {
  const upserted: JobName[] = [];
  for (const [name, job] of Object.entries(JOBS) as [JobName, (typeof JOBS)[JobName]][]) {
    if (!job.schedule) continue;
    // A scheduled job runs on one queue.
    const queue = new Queue(job.queues[0], { connection, prefix });
    try {
      await queue.upsertJobScheduler(name, { ...job.schedule }, { name, data: {}, opts: job.options });
    } finally {
      await queue.close();
    }
    upserted.push(name);
  }
  return upserted;
}
