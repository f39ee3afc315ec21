import type { FastifyInstance } from 'fastify';
import type { Config } from '@cdr-reports/config';
import { ApiKeysRepository, assertMigrated, createPool } from '@cdr-reports/db';
import { Queue } from 'bullmq';
import { QUEUES, createProducerConnection } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { Metrics, checkReadiness } from '@cdr-reports/observability';
import { openReportStorage } from '@cdr-reports/object-store';
import { createReportServices } from '@cdr-reports/reports';
import { buildApi } from './app';

export interface ApiInstance {
  app: FastifyInstance;
  /** Drains requests, then closes every connection. */
  close(): Promise<void>;
}

/** Builds the API with its real adapters (PostgreSQL, Redis, S3) from the configuration, without listening. */
export async function createApi(config: Config, logger: Logger): Promise<ApiInstance> {
  // A request makes one or two short queries: a few connections serve thousands a second, and more of them
  // would only add PostgreSQL processes competing for the same cores.
  const pool = createPool({ connectionString: config.databaseUrl, applicationName: 'cdr-reports-api', max: 10 });
  await assertMigrated(pool);
  const storage = await openReportStorage(config, logger);
  const redis = createProducerConnection(config.redisUrl);
  // Rate-limit counters on a connection of their own: every request's counter of one event-loop turn goes to
  // Redis in one write (auto-pipelining), which the queues' connection does not do.
  const rateLimitRedis = createProducerConnection(config.redisUrl, { enableAutoPipelining: true });
  const services = await createReportServices({ config, pool, redis, storage, logger });
  // The dashboard's own queue handles: every queue of the system, under the configured prefix.
  const adminQueues = config.adminToken ? Object.values(QUEUES).map((name) => new Queue(name, { connection: redis, prefix: config.queuePrefix })) : [];
  const app = await buildApi({
    metrics: new Metrics('api'),
    readiness: () =>
      checkReadiness({
        postgres: async () => void (await pool.query('SELECT 1')),
        redis: async () => void (await redis.ping()),
        s3: () => storage.store.checkReady(),
      }),
    ...(config.adminToken && { admin: { token: config.adminToken, queues: adminQueues } }),
    rateLimits: {
      redis: rateLimitRedis,
      keyPrefix: `${config.queuePrefix}:rate-limit:`,
      reportCreationsPerSecond: config.rateLimitReportCreations,
      requestsPerSecond: config.rateLimitRequests,
    },
    logger,
    accounts: services.accounts,
    keys: new ApiKeysRepository(pool),
    reports: services.reports,
    callbacks: services.callbacks,
    records: services.records,
    schedules: services.schedules,
    destinations: services.destinations,
  });
  return {
    app,
    async close() {
      await app.close();
      for (const queue of adminQueues) await queue.close();
      await services.close();
      redis.disconnect();
      rateLimitRedis.disconnect();
      storage.close();
      await pool.end();
    },
  };
}

/** Starts the API on config.port and returns a function that stops it. */
export async function runApi(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const api = await createApi(config, logger);
  await api.app.listen({ port: config.port, host: '0.0.0.0' });
  logger.info({ port: config.port }, 'api started');
  return async () => {
    await api.close();
    logger.info('api stopped: in-flight requests drained, connections closed');
  };
}
