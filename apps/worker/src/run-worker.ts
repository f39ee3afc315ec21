import { UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '@cdr-reports/config';
import { createPool, ensureDatabase, migrate } from '@cdr-reports/db';
import { QUEUES, createWorkerConnection, isJobName } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { processCdrRetention } from './processors/cdr-retention.processor';

/** Starts the worker's queue consumers and returns a function that stops them. */
export async function runWorker(config: Config, logger: Logger): Promise<() => Promise<void>> {
  await ensureDatabase(config.databaseUrl);
  const pool = createPool({ connectionString: config.databaseUrl, applicationName: 'cdr-reports-worker' });
  await migrate(pool);
  const connection = createWorkerConnection(config.redisUrl);

  const maintenance = new Worker(
    QUEUES.maintenance,
    async (job) => {
      const log = logger.child({ job_id: job.id, job: job.name });
      if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job "${job.name}" on ${QUEUES.maintenance}`);
      switch (job.name) {
        case 'cdr-retention':
          return processCdrRetention({ pool, retention: config.cdrRetention, logger: log });
      }
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
  );
  maintenance.on('failed', (job, error) => logger.error({ job_id: job?.id, job: job?.name, err: error }, 'job failed'));
  maintenance.on('error', (error) => logger.error({ err: error }, 'worker error'));
  await maintenance.waitUntilReady();
  logger.info({ queues: [QUEUES.maintenance], prefix: config.queuePrefix }, 'worker started');

  return async () => {
    // Lets the running job finish; lock renewal stops with close, so the deadline is the caller's.
    await maintenance.close();
    await connection.quit();
    await pool.end();
    logger.info('worker stopped: running jobs finished, connections closed');
  };
}
