import { PostgresCdrSource } from '@cdr-reports/cdr-store';
import type { Config } from '@cdr-reports/config';
import { AccountsRepository, CallbacksRepository, DestinationsRepository, ReportsRepository, SchedulesRepository, type Pool } from '@cdr-reports/db';
import { CallbackOutbox, CallbackQueue, DeliveryQueue, ReportQueue, ScheduleQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ReportStorage } from '@cdr-reports/object-store';
import { ReportDelivery, ReportRunner } from '@cdr-reports/report-runner';
import type { Redis } from 'ioredis';
import { AddressPolicy } from '@cdr-reports/webhooks';
import { DestinationService } from './destination.service';
import { openSecretBox } from './destination-secrets';
import { RecordsService } from './records.service';
import { CallbackService, ReportService } from './report.service';
import { ScheduleService } from './schedule.service';

/** Every use case of the service, wired once for whichever app needs them (the API, the worker, the CLI). */
export interface ReportServices {
  reports: ReportService;
  schedules: ScheduleService;
  records: RecordsService;
  callbacks: CallbackService;
  accounts: AccountsRepository;
  destinations: DestinationService;
  /** Where reports change state and are built: the worker's processors call it. */
  runner: ReportRunner;
  /** Copies finished reports into their destinations: the worker's delivery processor calls it. */
  delivery: ReportDelivery;
  /** Closes the queues opened here (not the pool, the connection or the storage, which the caller owns). */
  close(): Promise<void>;
}

export interface ReportServicesOptions {
  config: Config;
  pool: Pool;
  redis: Redis;
  storage: ReportStorage;
  logger: Logger;
  /** Overrides for tests: how often a running report looks for an abort, how long an export segment is. */
  abortPollMs?: number;
  segmentMs?: number;
}

export async function createReportServices(options: ReportServicesOptions): Promise<ReportServices> {
  const { config, pool, redis, storage, logger } = options;
  const accounts = new AccountsRepository(pool);
  const source = new PostgresCdrSource(pool);
  const reportsRepository = new ReportsRepository(pool);
  const callbacksRepository = new CallbacksRepository(pool);
  const queue = new ReportQueue(redis, config.queuePrefix);
  const scheduleQueue = new ScheduleQueue(redis, config.queuePrefix);
  const callbackQueue = new CallbackQueue(redis, config.queuePrefix, config.callbackRetrySchedule);
  const deliveryQueue = new DeliveryQueue(redis, config.queuePrefix, config.deliveryRetryBaseMs);
  const outbox = new CallbackOutbox(callbackQueue, callbacksRepository, logger);
  const destinationsRepository = new DestinationsRepository(pool, await openSecretBox(config));
  const destinationPolicy = new AddressPolicy(config.destinationAllowedNetworks);
  const delivery = new ReportDelivery({
    reports: reportsRepository,
    destinations: destinationsRepository,
    store: storage.store,
    queue: deliveryQueue,
    outbox,
    policy: destinationPolicy,
    logger,
  });
  const runner = new ReportRunner({
    reports: reportsRepository,
    accounts,
    queue,
    outbox,
    delivery,
    export: { source, store: storage.store, logger, compressionLevel: config.reportCompressionLevel, segmentMs: options.segmentMs },
    reportTtlMs: config.reportTtlMs,
    thresholds: { largeRows: config.reportLargeRows, fanOutRows: config.reportFanOutRows, segmentRows: config.reportSegmentRows },
    accountConcurrency: config.reportAccountConcurrency,
    abortPollMs: options.abortPollMs,
    logger,
  });
  const callbackPolicy = new AddressPolicy(config.callbackAllowedNetworks);
  // Read once: the list only changes with a PostgreSQL upgrade, and the view is slow to scan.
  const zones = await pool.query<{ name: string }>('SELECT name FROM pg_timezone_names');
  const timeZones = new Set(zones.rows.map((z) => z.name));
  const reports = new ReportService({
    reports: reportsRepository,
    accounts,
    destinations: destinationsRepository,
    queue,
    runner,
    callbackPolicy,
    links: storage.links,
    cdrRetention: config.cdrRetention,
    timeZones,
    logger,
  });
  const schedules = new ScheduleService({
    schedules: new SchedulesRepository(pool),
    reports: reportsRepository,
    reportService: reports,
    accounts,
    queue: scheduleQueue,
    callbackPolicy,
    cdrRetention: config.cdrRetention,
    timeZones,
    logger,
  });
  return {
    reports,
    schedules,
    records: new RecordsService({ source, accounts, cdrRetention: config.cdrRetention, timeZones }),
    callbacks: new CallbackService(reports, callbacksRepository, runner),
    accounts,
    destinations: new DestinationService({ destinations: destinationsRepository, accounts, policy: destinationPolicy }),
    runner,
    delivery,
    async close() {
      await deliveryQueue.close();
      await queue.close();
      await scheduleQueue.close();
      await callbackQueue.close();
    },
  };
}
