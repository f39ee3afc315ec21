import { UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '@cdr-reports/config';
import { AccountsRepository, CallbacksRepository, ReportsRepository, createPool, ensureDatabase, migrate } from '@cdr-reports/db';
import { CallbackQueue, QUEUES, ReportQueue, createWorkerConnection, isJobName } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { openReportStorage } from '@cdr-reports/object-store';
import { processCdrRetention } from './processors/cdr-retention.processor';
import { processGenerateReport } from './processors/generate-report.processor';
import { processReportSweeper } from './processors/report-sweeper.processor';

export interface WorkerOptions {
  /** Overrides for tests: how often an abort is looked for, how long an export segment is. */
  abortPollMs?: number;
  segmentMs?: number;
}

/** Starts the worker's queue consumers and returns a function that stops them. */
export async function runWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<() => Promise<void>> {
  await ensureDatabase(config.databaseUrl);
  // One connection per concurrent export (each holds a snapshot for its whole run), plus a few for updates.
  const pool = createPool({
    connectionString: config.databaseUrl,
    applicationName: 'cdr-reports-worker',
    max: config.reportWorkerConcurrency * 2 + 4,
  });
  await migrate(pool);
  const storage = await openReportStorage(config, logger);
  const connection = createWorkerConnection(config.redisUrl);
  const reports = new ReportsRepository(pool);
  const accounts = new AccountsRepository(pool);
  const reportQueue = new ReportQueue(connection, config.queuePrefix);
  const callbacks = {
    queue: new CallbackQueue(connection, config.queuePrefix, config.callbackRetrySchedule),
    store: new CallbacksRepository(pool),
  };

  const reportWorker = new Worker(
    QUEUES.reports,
    async (job) => {
      if (job.name !== 'generate-report') throw new UnrecoverableError(`unknown job "${job.name}" on ${QUEUES.reports}`);
      return processGenerateReport(
        {
          reports,
          accounts,
          callbacks,
          reportTtlMs: config.reportTtlMs,
          logger,
          abortPollMs: options.abortPollMs,
          export: { pool, store: storage.store, logger, compressionLevel: config.reportCompressionLevel, segmentMs: options.segmentMs },
        },
        job,
      );
    },
    {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.reportWorkerConcurrency,
      lockDuration: config.jobLockMs,
      // Stalled jobs (their worker died) are looked for as often as a lock can lapse.
      stalledInterval: config.jobLockMs,
    },
  );

  const maintenance = new Worker(
    QUEUES.maintenance,
    async (job) => {
      const log = logger.child({ job_id: job.id, job: job.name });
      if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job "${job.name}" on ${QUEUES.maintenance}`);
      switch (job.name) {
        case 'cdr-retention':
          return processCdrRetention({ pool, retention: config.cdrRetention, logger: log });
        case 'report-sweeper':
          return processReportSweeper({ reports, store: storage.store, queue: reportQueue, callbacks, logger: log });
        default:
          throw new UnrecoverableError(`job "${job.name}" does not belong on ${QUEUES.maintenance}`);
      }
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
  );
  for (const worker of [reportWorker, maintenance]) {
    worker.on('failed', (job, error) => logger.warn({ job_id: job?.id, job: job?.name, err: error }, 'job failed'));
    worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
    await worker.waitUntilReady();
  }
  logger.info({ queues: [QUEUES.reports, QUEUES.maintenance], prefix: config.queuePrefix, concurrency: config.reportWorkerConcurrency }, 'worker started');

  return async () => {
    // close() lets running jobs finish; the caller's shutdown deadline bounds it.
    await Promise.all([reportWorker.close(), maintenance.close()]);
    await reportQueue.close();
    await callbacks.queue.close();
    await connection.quit();
    storage.close();
    await pool.end();
    logger.info('worker stopped: running jobs finished, connections closed');
  };
}
