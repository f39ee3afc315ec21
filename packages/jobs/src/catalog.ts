import type { JobsOptions } from 'bullmq';

/**
 * Queue names and job names are persisted API: jobs already in Redis carry them across deploys.
 * Never rename one; add a new one and drain the old.
 */
export const QUEUES = {
  /** One job per report: stream its CDRs into a compressed CSV on S3. */
  reports: 'reports',
  /**
   * The same jobs for reports estimated larger than REPORT_LARGE_ROWS: a lane of their own with its own
   * concurrency, so huge reports never hold every slot and small ones never queue behind them.
   */
  reportsLarge: 'reports-large',
  /** One job per time segment of a fanned-out report: any worker exports it as a gzip part. */
  reportSegments: 'report-segments',
  /** The parent of a fanned-out report's segments: joins the parts into the one file once all are done. */
  reportAssembly: 'report-assembly',
  /** Maintenance jobs run by the worker on schedules: CDR retention, the report sweeper. */
  maintenance: 'maintenance',
  /** One job scheduler per scheduled export (its cron and time zone); each run creates that period's report. */
  schedules: 'schedules',
  /** One job per callback delivery, taken by the notifier. */
  callbacks: 'callbacks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobSchedule {
  /** Cron pattern, with `tz`. */
  pattern?: string;
  tz?: string;
  /** Or a fixed interval in milliseconds. */
  every?: number;
}

/** Every job: its queue, its retry policy, and a schedule for the periodic ones. */
export const JOBS = {
  'generate-report': {
    queue: QUEUES.reports,
    // jobId is the report id, so a report is enqueued at most once while its job exists.
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    },
  },
  'export-segment': {
    queue: QUEUES.reportSegments,
    // A failed segment is retried on its own; once its attempts are spent the report fails (failParentOnFailure).
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      failParentOnFailure: true,
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    },
  },
  'assemble-report': {
    queue: QUEUES.reportAssembly,
    // jobId is the report id, like generate-report.
    options: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 7 * 86_400 },
    },
  },
  'run-schedule': {
    queue: QUEUES.schedules,
    // Fired by the schedule's job scheduler (`schedule:{id}`); creating the period's report is idempotent.
    options: { attempts: 5, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { age: 7 * 86_400, count: 10_000 }, removeOnFail: { age: 30 * 86_400 } },
  },
  'deliver-callback': {
    queue: QUEUES.callbacks,
    // attempts come from CALLBACK_RETRY_SCHEDULE at enqueue time; the delays from the notifier's backoff strategy.
    options: { backoff: { type: 'callback-schedule' }, removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } },
  },
  'cdr-retention': {
    queue: QUEUES.maintenance,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 100, removeOnFail: 500 },
    /** Daily at 03:15 UTC: drops CDR partitions past CDR_RETENTION. */
    schedule: { pattern: '15 3 * * *', tz: 'UTC' } as JobSchedule,
  },
  'report-sweeper': {
    queue: QUEUES.maintenance,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 },
    /** Every minute: deletes files past expires_at, recovers reports whose job was lost. */
    schedule: { every: 60_000 } as JobSchedule,
  },
  'schedule-catch-up': {
    queue: QUEUES.maintenance,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 },
    /**
     * Every minute: creates the report of any period whose run was missed (BullMQ never back-fills runs
     * that fell while the cluster was down) and restores job schedulers Redis lost.
     */
    schedule: { every: 60_000 } as JobSchedule,
  },
} as const satisfies Record<string, { queue: QueueName; options: JobsOptions; schedule?: JobSchedule }>;

export type JobName = keyof typeof JOBS;

/** Payload of every job: ids, never entities. */
export interface JobPayloads {
  'generate-report': { reportId: string };
  /** Segment `index` of `count`: start_time in [from, to), with the requested bounds' exact text on the outer edges. */
  'export-segment': { reportId: string; index: number; count: number; from: string; to: string; fromText?: string; toText?: string };
  'assemble-report': { reportId: string; count: number };
  'deliver-callback': { eventId: string };
  'run-schedule': { scheduleId: string };
  'schedule-catch-up': Record<string, never>;
  'cdr-retention': Record<string, never>;
  'report-sweeper': Record<string, never>;
}

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(JOBS, name);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a generate-report payload at runtime: a job may have been enqueued by another deploy.
 * Returns undefined for a payload no retry can fix.
 */
export function parseGenerateReportPayload(data: unknown): JobPayloads['generate-report'] | undefined {
  const reportId = (data as { reportId?: unknown } | null)?.reportId;
  return typeof reportId === 'string' && UUID.test(reportId) ? { reportId } : undefined;
}

/** Checks a deliver-callback payload at runtime; undefined for one no retry can fix. */
export function parseDeliverCallbackPayload(data: unknown): JobPayloads['deliver-callback'] | undefined {
  const eventId = (data as { eventId?: unknown } | null)?.eventId;
  return typeof eventId === 'string' && /^msg_[A-Za-z0-9_-]{1,64}$/.test(eventId) ? { eventId } : undefined;
}

/** Checks an export-segment payload at runtime; undefined for one no retry can fix. */
export function parseExportSegmentPayload(data: unknown): JobPayloads['export-segment'] | undefined {
  const d = data as Partial<JobPayloads['export-segment']> | null;
  if (!d || typeof d.reportId !== 'string' || !UUID.test(d.reportId)) return undefined;
  if (!Number.isInteger(d.index) || !Number.isInteger(d.count) || d.index! < 0 || d.index! >= d.count!) return undefined;
  if (typeof d.from !== 'string' || typeof d.to !== 'string' || Number.isNaN(Date.parse(d.from)) || Number.isNaN(Date.parse(d.to))) return undefined;
  return {
    reportId: d.reportId,
    index: d.index!,
    count: d.count!,
    from: d.from,
    to: d.to,
    ...(typeof d.fromText === 'string' && { fromText: d.fromText }),
    ...(typeof d.toText === 'string' && { toText: d.toText }),
  };
}

/** Checks an assemble-report payload at runtime; undefined for one no retry can fix. */
export function parseAssembleReportPayload(data: unknown): JobPayloads['assemble-report'] | undefined {
  const d = data as Partial<JobPayloads['assemble-report']> | null;
  return d && typeof d.reportId === 'string' && UUID.test(d.reportId) && Number.isInteger(d.count) && d.count! > 0
    ? { reportId: d.reportId, count: d.count! }
    : undefined;
}

/** Checks a run-schedule payload at runtime; undefined for one no retry can fix. */
export function parseRunSchedulePayload(data: unknown): JobPayloads['run-schedule'] | undefined {
  const scheduleId = (data as { scheduleId?: unknown } | null)?.scheduleId;
  return typeof scheduleId === 'string' && UUID.test(scheduleId) ? { scheduleId } : undefined;
}
