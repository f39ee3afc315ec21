import { Queue } from 'bullmq';
import { PROJECT_VERSION, type Config } from '@cdr-reports/config';
import { CallbacksRepository, assertMigrated, createPool } from '@cdr-reports/db';
import { CallbackOutbox, CallbackQueue, QUEUES, createJobWorker, createWorkerConnection } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { Metrics, checkReadiness, jobFlowCheck, startOpsServer } from '@cdr-reports/observability';
import { openReportStorage } from '@cdr-reports/object-store';
import { AddressPolicy, HostLimiter, createGuardedAgent, retryDelay } from '@cdr-reports/webhooks';
import { startCallbackRelay } from './callback-relay';
import { DeliveryAttemptError, processDeliverCallback } from './processors/deliver-callback.processor';

/** Names the product and version to receivers. */
export const USER_AGENT = `cdr-reports-webhooks/${PROJECT_VERSION}`;

/** Starts the notifier: the callback deliveries and the outbox relay. Returns a function that stops them. */
export async function runNotifier(config: Config, logger: Logger): Promise<() => Promise<void>> {
  // Deliveries read and write in batches, at most two of each at a time (CallbacksRepository); the relay and
  // the stalled-job handler make the rest.
  const pool = createPool({
    connectionString: config.databaseUrl,
    applicationName: 'cdr-reports-notifier',
    max: 6,
    // The notifier writes only attempt logs and states; see PoolOptions.asynchronousCommit.
    asynchronousCommit: true,
  });
  await assertMigrated(pool);
  const storage = await openReportStorage(config, logger);
  const connection = createWorkerConnection(config.redisUrl);
  const callbacks = new CallbacksRepository(pool);
  const queue = new CallbackQueue(connection, config.queuePrefix, config.callbackRetrySchedule);
  const policy = new AddressPolicy(config.callbackAllowedNetworks);
  const dispatcher = createGuardedAgent(policy);
  const deps = {
    callbacks,
    links: storage.links,
    dispatcher,
    policy,
    limiter: new HostLimiter(config.callbackHostConcurrency),
    timeoutMs: config.callbackTimeoutMs,
    userAgent: USER_AGENT,
    logger,
  };

  const worker = createJobWorker(QUEUES.callbacks, { 'deliver-callback': (job, token) => processDeliverCallback(deps, job, token) }, {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.callbackConcurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.jobLockMs,
    // A delivery cut off by a dying notifier is taken over; only a job that kills notifiers again and again fails.
    maxStalledCount: 5,
    settings: {
      backoffStrategy: (attemptsMade, _type, error) =>
        retryDelay(config.callbackRetrySchedule, attemptsMade, error instanceof DeliveryAttemptError ? error.retryAfterMs : undefined),
    },
  });
  worker.on('error', (error) => logger.error({ err: error }, 'notifier worker error'));
  // A job that failed outside the processor (stalled too often) must not leave its event pending for ever.
  worker.on('failed', (job, error) => {
    const eventId = (job?.data as { eventId?: string } | undefined)?.eventId;
    // deferredFailure: BullMQ failed the job itself (it stalled more often than allowed), not the processor.
    if (!eventId || !job?.deferredFailure) return;
    callbacks
      .recordAttempt(eventId, { statusCode: null, durationMs: 0, error: `delivery interrupted repeatedly: ${error.message}` }, 'failed')
      .catch((recordError: unknown) => logger.error({ err: recordError, event_id: eventId }, 'could not record a stalled delivery'));
  });
  await worker.waitUntilReady();
  const relay = startCallbackRelay({ callbacks, outbox: new CallbackOutbox(queue, callbacks, logger), logger });

  // Metrics (attempts by outcome, delivery durations) and /readyz: PostgreSQL and Redis answer, deliveries flow.
  const metrics = new Metrics('notifier');
  worker.on('completed', (job, result: { outcome?: string } | undefined) => {
    metrics.callbackAttempts.inc({ outcome: result?.outcome ?? 'delivered' });
    metrics.observeJob(QUEUES.callbacks, job, 'completed');
  });
  worker.on('failed', (job) => {
    metrics.callbackAttempts.inc({ outcome: 'failed' });
    metrics.observeJob(QUEUES.callbacks, job, 'failed');
  });
  const callbackQueue = new Queue(QUEUES.callbacks, { connection, prefix: config.queuePrefix });
  callbackQueue.on('error', () => undefined);
  metrics.collectJobCounts(async () => ({ [QUEUES.callbacks]: await callbackQueue.getJobCounts() }));
  const flowing = jobFlowCheck({ worker, queue: callbackQueue });
  const ops = await startOpsServer({
    port: config.metricsPort,
    metrics,
    readiness: () =>
      checkReadiness({
        postgres: async () => void (await pool.query('SELECT 1')),
        redis: async () => void (await connection.ping()),
        [`jobs:${QUEUES.callbacks}`]: flowing,
      }),
  });
  logger.info({ port: ops.port }, 'metrics and health on /metrics, /healthz, /readyz');
  logger.info({ queue: QUEUES.callbacks, prefix: config.queuePrefix, concurrency: config.callbackConcurrency }, 'notifier started');

  return async () => {
    await relay.stop();
    await worker.close();
    await ops.close();
    await callbackQueue.close();
    await queue.close();
    await connection.quit();
    await dispatcher.close();
    storage.close();
    await pool.end();
    logger.info('notifier stopped: deliveries in flight finished, connections closed');
  };
}
