import type { Config } from '@cdr-reports/config';
import { AccountsRepository, CallbacksRepository, ReportsRepository, SchedulesRepository, type Pool } from '@cdr-reports/db';
import { CallbackQueue, ReportQueue, ScheduleQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ReportStorage } from '@cdr-reports/object-store';
import type { Redis } from 'ioredis';
import { AddressPolicy } from '@cdr-reports/webhooks';
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
  /** Closes the queues opened here (not the pool, the connection or the storage, which the caller owns). */
  close(): Promise<void>;
}

export async function createReportServices(options: { config: Config; pool: Pool; redis: Redis; storage: ReportStorage; logger: Logger }): Promise<ReportServices> {
  const { config, pool, redis, storage, logger } = options;
  const accounts = new AccountsRepository(pool);
  const reportsRepository = new ReportsRepository(pool);
  const queue = new ReportQueue(redis, config.queuePrefix);
  const scheduleQueue = new ScheduleQueue(redis, config.queuePrefix);
  const callbacks = { queue: new CallbackQueue(redis, config.queuePrefix, config.callbackRetrySchedule), store: new CallbacksRepository(pool) };
  const callbackPolicy = new AddressPolicy(config.callbackAllowedNetworks);
  // Read once: the list only changes with a PostgreSQL upgrade, and the view is slow to scan.
  const zones = await pool.query<{ name: string }>('SELECT name FROM pg_timezone_names');
  const timeZones = new Set(zones.rows.map((z) => z.name));
  const reports = new ReportService({
    reports: reportsRepository,
    accounts,
    queue,
    callbacks,
    callbackPolicy,
    store: storage.store,
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
    records: new RecordsService({ pool, accounts, cdrRetention: config.cdrRetention, timeZones }),
    callbacks: new CallbackService(reports, callbacks),
    accounts,
    async close() {
      await queue.close();
      await scheduleQueue.close();
      await callbacks.queue.close();
    },
  };
}
