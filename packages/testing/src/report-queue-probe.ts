import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from '@cdr-reports/db';
import { QUEUES, createWorkerConnection } from '@cdr-reports/jobs';
import { TEST_REDIS_URL } from './redis';

/**
 * The reports queue (or another queue of the report path: `name`) of a test's prefix, on a connection of the test's
 * own: to look at its jobs or add some.
 */
export interface ReportQueueProbe {
  /** The probe's connection (a worker connection, so it may be shared with other queue objects). */
  redis: Redis;
  queue: Queue;
  /** Removes every job left (whatever its state, ignoring a failure to), then closes the queue and the connection. */
  close(): Promise<void>;
}

export function openReportQueue(prefix: string, redisUrl = TEST_REDIS_URL, name: string = QUEUES.reports): ReportQueueProbe {
  const redis = createWorkerConnection(redisUrl);
  const queue = new Queue(name, { connection: redis, prefix });
  return {
    redis,
    queue,
    async close() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await redis.quit();
    },
  };
}

/**
 * Marks every PENDING or PROCESSING report ABORTED. Call it before closing a cluster whose tests may have
 * failed half-way: a report still running would hold the worker's close() until it ends.
 */
export async function abortUnfinishedReports(pool: Pool): Promise<void> {
  await pool.query(`UPDATE reports SET status = 'ABORTED' WHERE status IN ('PENDING', 'PROCESSING')`);
}
