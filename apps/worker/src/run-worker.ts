import { FlowProducer, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Config } from '@cdr-reports/config';
import { AccountsRepository, CallbacksRepository, ReportsRepository, createPool, ensureDatabase, migrate } from '@cdr-reports/db';
import { CallbackQueue, QUEUES, ReportQueue, createWorkerConnection, fanOutReport, isJobName, parseRunSchedulePayload } from '@cdr-reports/jobs';
import { Metrics, checkReadiness, jobFlowCheck, startOpsServer } from '@cdr-reports/observability';
import { createReportServices } from '@cdr-reports/reports';
import type { ReportRequest } from '@cdr-reports/domain';
import { estimateReportRows } from '@cdr-reports/export';
import type { Logger } from '@cdr-reports/logging';
import { openReportStorage } from '@cdr-reports/object-store';
import { processAssembleReport } from './processors/assemble-report.processor';
import { processCdrRetention } from './processors/cdr-retention.processor';
import { processExportSegment } from './processors/export-segment.processor';
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
    max: (config.reportWorkerConcurrency + config.reportLargeConcurrency + config.reportSegmentConcurrency) * 2 + 4,
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

  // Aborted when the shutdown deadline nears: running reports are handed back to the queue.
  const release = new AbortController();
  const reportDeps = {
    reports,
    accounts,
    callbacks,
    reportTtlMs: config.reportTtlMs,
    logger,
    abortPollMs: options.abortPollMs,
    release: release.signal,
    accountConcurrency: config.reportAccountConcurrency,
    export: { pool, store: storage.store, logger, compressionLevel: config.reportCompressionLevel, segmentMs: options.segmentMs },
  };
  // Two lanes with their own slots: huge reports never hold every slot, small ones never queue behind them.
  // Every report enters the standard lane; one estimated above REPORT_LARGE_ROWS is moved on before it starts.
  const flows = new FlowProducer({ connection, prefix: config.queuePrefix });
  flows.on('error', (error) => logger.error({ err: error }, 'flow producer error'));
  const triage = {
    largeRows: config.reportLargeRows,
    fanOutRows: config.reportFanOutRows,
    segmentRows: config.reportSegmentRows,
    estimateRows: (request: ReportRequest, accountIds: readonly string[]) => estimateReportRows(pool, request, accountIds),
    moveToLargeLane: (reportId: string) => reportQueue.enqueue(reportId, 'large'),
    fanOut: (reportId: string, request: ReportRequest, segments: number) =>
      fanOutReport(flows, config.queuePrefix, reportId, { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end }, segments),
  };
  const reportWorker = (queue: string, concurrency: number) =>
    new Worker(
      queue,
      async (job, token) => {
        if (job.name === 'export-segment' && queue === QUEUES.reportSegments) return processExportSegment(reportDeps, job, token);
        if (job.name === 'assemble-report' && queue === QUEUES.reportAssembly) return processAssembleReport(reportDeps, job);
        if (job.name !== 'generate-report') throw new UnrecoverableError(`unknown job "${job.name}" on ${queue}`);
        return processGenerateReport(queue === QUEUES.reports ? { ...reportDeps, triage } : reportDeps, job, token);
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency,
        lockDuration: config.jobLockMs,
        // Stalled jobs (their worker died) are looked for as often as a lock can lapse.
        stalledInterval: config.jobLockMs,
      },
    );
  const reportWorkers = [
    reportWorker(QUEUES.reports, config.reportWorkerConcurrency),
    reportWorker(QUEUES.reportsLarge, config.reportLargeConcurrency),
    reportWorker(QUEUES.reportSegments, config.reportSegmentConcurrency),
    reportWorker(QUEUES.reportAssembly, 1),
  ];

  // Scheduled exports: each run of a schedule's job scheduler creates its period's report (once).
  const services = await createReportServices({ config, pool, redis: connection, storage, logger });
  const schedules = new Worker(
    QUEUES.schedules,
    async (job) => {
      if (job.name !== 'run-schedule') throw new UnrecoverableError(`unknown job "${job.name}" on ${QUEUES.schedules}`);
      const payload = parseRunSchedulePayload(job.data);
      if (!payload) throw new UnrecoverableError(`invalid run-schedule payload: ${JSON.stringify(job.data).slice(0, 200)}`);
      const created = await services.schedules.runScheduled(payload.scheduleId);
      return { created: created.map((report) => report.id) };
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
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
        case 'schedule-catch-up':
          return { created: await services.schedules.catchUp() };
        default:
          throw new UnrecoverableError(`job "${job.name}" does not belong on ${QUEUES.maintenance}`);
      }
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
  );
  // Metrics, and /readyz: PostgreSQL, Redis and S3 answer, and jobs flow on every report queue.
  const metrics = new Metrics('worker');
  const observed = [...reportWorkers, schedules, maintenance];
  for (const worker of observed) observeJobs(metrics, worker);
  const queues = Object.fromEntries(observed.map((worker) => [worker.name, new Queue(worker.name, { connection, prefix: config.queuePrefix })]));
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
        s3: async () => void (await storage.store.head('readiness-probe')),
        ...flowChecks,
      }),
  });

  for (const worker of observed) {
    worker.on('failed', (job, error) => logger.warn({ job_id: job?.id, job: job?.name, err: error }, 'job failed'));
    worker.on('error', (error) => logger.error({ err: error }, 'worker error'));
    await worker.waitUntilReady();
  }
  logger.info(
    {
      queues: [QUEUES.reports, QUEUES.reportsLarge, QUEUES.reportSegments, QUEUES.reportAssembly, QUEUES.schedules, QUEUES.maintenance],
      prefix: config.queuePrefix,
      concurrency: { standard: config.reportWorkerConcurrency, large: config.reportLargeConcurrency, segments: config.reportSegmentConcurrency },
    },
    'worker started',
  );
  logger.info({ port: ops.port }, 'metrics and health on /metrics, /healthz, /readyz');

  return async () => {
    // No new jobs from now; running reports may finish until shortly before the shutdown deadline, when
    // they are handed back to the queue (a report is never cut off by the deadline's hard exit).
    const closing = Promise.all([...reportWorkers, schedules, maintenance].map((worker) => worker.close()));
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
      release.abort();
      await closing;
    }
    await ops.close();
    for (const queue of Object.values(queues)) await queue.close();
    await reportQueue.close();
    await services.close();
    await flows.close();
    await callbacks.queue.close();
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
    const value = result as { outcome?: string; items?: number; bytes?: number; seconds?: number; part?: { items: number; size: number }; filesDeleted?: number } | undefined;
    // A report written by one job (an assembled one was counted segment by segment).
    if (value?.outcome === 'success' && value.items !== undefined && value.bytes !== undefined) {
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
