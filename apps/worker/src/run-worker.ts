import { Queue, type Worker, type WorkerOptions as BullWorkerOptions } from 'bullmq';
import type { Config } from '@cdr-reports/config';
import { assertMigrated, createPool } from '@cdr-reports/db';
import { QUEUES, createJobWorker, createWorkerConnection, type ReportJobResult } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { openReportStorage } from '@cdr-reports/object-store';
import { Metrics, checkReadiness, jobFlowCheck, startOpsServer } from '@cdr-reports/observability';
import { RELEASE_REASON } from '@cdr-reports/report-runner';
import { createReportServices } from '@cdr-reports/reports';
import { cdrRetention, reportSweeper, scheduleCatchUp } from './processors/maintenance.processors';
import { assembleReport, deliverReport, exportSegment, generateReport } from './processors/report.processors';
import { runSchedule } from './processors/schedule.processors';

export interface WorkerOptions {
  /** Overrides for tests: how often an abort is looked for, how long an export segment is. */
  abortPollMs?: number;
  segmentMs?: number;
}

/** Starts the worker's queue consumers and returns a function that stops them. */
export async function runWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<() => Promise<void>> {
  // One connection per concurrent export (each holds a snapshot for its whole run), plus a few for updates.
  const pool = createPool({
    connectionString: config.databaseUrl,
    applicationName: 'cdr-reports-worker',
    max: (config.reportWorkerConcurrency + config.reportLargeConcurrency + config.reportSegmentConcurrency) * 2 + config.deliveryConcurrency + 4,
  });
  await assertMigrated(pool);
  const storage = await openReportStorage(config, logger);
  const connection = createWorkerConnection(config.redisUrl);
  const services = await createReportServices({ config, pool, redis: connection, storage, logger, ...options });
  const { runner } = services;

  const consumer = (concurrency: number): BullWorkerOptions => ({
    connection,
    prefix: config.queuePrefix,
    concurrency,
    lockDuration: config.jobLockMs,
    // Stalled jobs (their worker died) are looked for as often as a lock can lapse.
    stalledInterval: config.jobLockMs,
  });
  // Two lanes with their own slots: huge reports never hold every slot, small ones never queue behind them.
  // Every report enters the standard lane; one estimated large is moved on (or fanned out) before it starts.
  const reportWorkers = [
    createJobWorker(QUEUES.reports, { 'generate-report': generateReport(runner, 'standard') }, consumer(config.reportWorkerConcurrency)),
    createJobWorker(QUEUES.reportsLarge, { 'generate-report': generateReport(runner, 'large') }, consumer(config.reportLargeConcurrency)),
    createJobWorker(QUEUES.reportSegments, { 'export-segment': exportSegment(runner) }, consumer(config.reportSegmentConcurrency)),
    createJobWorker(QUEUES.reportAssembly, { 'assemble-report': assembleReport(runner) }, consumer(1)),
  ];
  const once = { connection, prefix: config.queuePrefix, concurrency: 1 };
  const schedules = createJobWorker(QUEUES.schedules, { 'run-schedule': runSchedule(services.schedules) }, once);
  const maintenance = createJobWorker(
    QUEUES.maintenance,
    {
      'cdr-retention': cdrRetention({ pool, retention: config.cdrRetention, logger }),
      'report-sweeper': reportSweeper(runner),
      'schedule-catch-up': scheduleCatchUp(services.schedules),
    },
    once,
  );
  // Deliveries wait on the customer's storage, not on our CPU: their own slots, so a slow destination never holds a report's.
  const deliveries = createJobWorker(QUEUES.deliveries, { 'deliver-report': deliverReport(services.delivery) }, consumer(config.deliveryConcurrency));
  const workers = [...reportWorkers, deliveries, schedules, maintenance];

  // Metrics, and /readyz: PostgreSQL, Redis and S3 answer, and jobs flow on every report queue.
  const metrics = new Metrics('worker');
  for (const worker of workers) observeJobs(metrics, worker);
  const queues = Object.fromEntries(workers.map((worker) => [worker.name, new Queue(worker.name, { connection, prefix: config.queuePrefix })]));
  for (const queue of Object.values(queues)) queue.on('error', () => undefined);
  metrics.collectJobCounts(async () => Object.fromEntries(await Promise.all(Object.entries(queues).map(async ([name, queue]) => [name, await queue.getJobCounts()] as const))));
  const flowChecks = Object.fromEntries(reportWorkers.map((worker) => [`jobs:${worker.name}`, jobFlowCheck({ worker, queue: queues[worker.name]! })]));
  const ops = await startOpsServer({
    port: config.metricsPort,
    metrics,
    readiness: () =>
      checkReadiness({
        postgres: async () => void (await pool.query('SELECT 1')),
        redis: async () => void (await connection.ping()),
        s3: () => storage.store.checkReady(),
        ...flowChecks,
      }),
  });

  for (const worker of workers) {
    worker.on('failed', (job, error) => logger.warn({ job_id: job?.id, job: job?.name, err: error }, 'job failed'));
    worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
    await worker.waitUntilReady();
  }
  logger.info(
    {
      queues: workers.map((worker) => worker.name),
      prefix: config.queuePrefix,
      concurrency: { standard: config.reportWorkerConcurrency, large: config.reportLargeConcurrency, segments: config.reportSegmentConcurrency },
    },
    'worker started',
  );
  logger.info({ port: ops.port }, 'metrics and health on /metrics, /healthz, /readyz');

  return async () => {
    // No new jobs from now; running reports may finish until shortly before the shutdown deadline, when
    // they are handed back to the queue (a report is never cut off by the deadline's hard exit).
    const closing = Promise.all(workers.map((worker) => worker.close()));
    const releaseAfterMs = Math.max(0, config.shutdownTimeoutMs - RELEASE_MARGIN_MS);
    let timer: NodeJS.Timeout | undefined;
    const released = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), releaseAfterMs);
      }),
    ]);
    clearTimeout(timer);
    if (released) {
      logger.warn({ after_ms: releaseAfterMs }, 'running reports did not finish in time: handing them back to the queue');
      // Every running report job's processor signal is aborted with the release reason (see ReportRunner).
      for (const worker of reportWorkers) worker.cancelAllJobs(RELEASE_REASON);
      await closing;
    }
    await ops.close();
    for (const queue of Object.values(queues)) await queue.close();
    await services.close();
    await connection.quit();
    storage.close();
    await pool.end();
    logger.info({ released }, released ? 'worker stopped: running reports handed back, connections closed' : 'worker stopped: running reports finished, connections closed');
  };
}

/** How long before the shutdown deadline running reports are handed back: enough to abort and re-queue them. */
const RELEASE_MARGIN_MS = 3_000;

/** Job durations by queue, job and outcome; rows and bytes of what the job stored; sweeper deletions. */
function observeJobs(metrics: Metrics, worker: Worker): void {
  worker.on('completed', (job, result: unknown) => {
    metrics.observeJob(worker.name, job, 'completed');
    const value = result as (ReportJobResult & { part?: { items: number; size: number }; filesDeleted?: number }) | undefined;
    // A report written by one job (an assembled one was counted segment by segment).
    if (value?.outcome === 'success' && value.bytes !== undefined) {
      metrics.rowsExported.inc({ kind: 'report' }, value.items);
      metrics.bytesExported.inc({ kind: 'report' }, value.bytes);
      if (value.seconds) metrics.exportRowsPerSecond.set(value.items / value.seconds);
    }
    if (value?.part) {
      metrics.rowsExported.inc({ kind: 'segment' }, value.part.items);
      metrics.bytesExported.inc({ kind: 'segment' }, value.part.size);
    }
    if (value?.filesDeleted) metrics.sweeperDeletions.inc(value.filesDeleted);
  });
  worker.on('failed', (job) => metrics.observeJob(worker.name, job, 'failed'));
}
