import type { Job, JobsOptions } from 'bullmq';
import type { ReportSummary } from '@cdr-reports/domain';

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
  /** One job per delivery of a report's files into the customer's storage (its destination), taken by the worker. */
  deliveries: 'deliveries',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobSchedule {
  /** Cron pattern, with `tz`. */
  pattern?: string;
  tz?: string;
  /** Or a fixed interval in milliseconds. */
  every?: number;
}

/**
 * One job, defined once: the queues it runs on, how its payload is checked at runtime (a job may have been
 * enqueued by another deploy), its retry policy, and a schedule for the periodic ones. `Data` and `Result`
 * type the producers and the handlers (see JobOf, JobHandlers).
 */
export interface JobDefinition<Data, Result, Queues extends readonly QueueName[] = readonly QueueName[]> {
  queues: Queues;
  /** The payload when it is valid; undefined for one no retry can fix. */
  parse(data: unknown): Data | undefined;
  options: JobsOptions;
  schedule?: JobSchedule;
  /** Phantom: carries the result type. */
  readonly result?: Result;
}

/** `defineJob<Data, Result>()({...})`: the payload and result types given, the queues inferred as literals. */
function defineJob<Data, Result>() {
  return <const Queues extends readonly QueueName[]>(definition: Omit<JobDefinition<Data, Result, Queues>, 'result'>): JobDefinition<Data, Result, Queues> =>
    definition;
}

/** What a report job did; `bytes` and `seconds` when it wrote the file itself (not when it assembled parts). */
export type ReportJobResult =
  | { outcome: 'success'; items: number; bytes?: number; seconds?: number }
  | { outcome: 'skipped' | 'aborted' | 'moved-to-large-lane' | 'fanned-out'; status?: string; estimatedRows?: number };

/** What a segment leaves for the assembly: its part of the file and of the summary. */
export interface SegmentResult {
  index: number;
  /** undefined when the report was aborted (nothing stored). */
  part?: { key: string; size: number; items: number; summary: ReportSummary };
}

/** Segment `index` of `count`: start_time in [from, to), with the requested bounds' exact text on the outer edges. */
export interface ExportSegmentPayload {
  reportId: string;
  index: number;
  count: number;
  from: string;
  to: string;
  fromText?: string;
  toText?: string;
}

type NoPayload = Record<string, never>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
const field = (data: unknown, name: string): unknown => (data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[name] : undefined);
const noPayload = (): NoPayload => ({});

// Kept per job rather than shared: each job's retention is part of its contract with operators.
const REPORT_JOB_RETENTION = { removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } };

/** Every job of the system. Payloads are ids, never entities. */
export const JOBS = {
  'generate-report': defineJob<{ reportId: string }, ReportJobResult>()({
    // Every report starts in the standard lane; the worker moves one estimated large to the large lane.
    queues: [QUEUES.reports, QUEUES.reportsLarge],
    parse: (data) => (isUuid(field(data, 'reportId')) ? { reportId: field(data, 'reportId') as string } : undefined),
    // jobId is the report id, so a report is enqueued at most once while its job exists.
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...REPORT_JOB_RETENTION },
  }),
  'export-segment': defineJob<ExportSegmentPayload, SegmentResult>()({
    queues: [QUEUES.reportSegments],
    parse: parseExportSegmentPayload,
    // A failed segment is retried on its own; once its attempts are spent the report fails (failParentOnFailure).
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, failParentOnFailure: true, ...REPORT_JOB_RETENTION },
  }),
  'assemble-report': defineJob<{ reportId: string; count: number }, ReportJobResult>()({
    queues: [QUEUES.reportAssembly],
    parse: (data) => {
      const reportId = field(data, 'reportId');
      const count = field(data, 'count');
      return isUuid(reportId) && Number.isInteger(count) && (count as number) > 0 ? { reportId, count: count as number } : undefined;
    },
    // jobId is the report id, like generate-report.
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...REPORT_JOB_RETENTION },
  }),
  'run-schedule': defineJob<{ scheduleId: string }, { created: string[] }>()({
    queues: [QUEUES.schedules],
    parse: (data) => (isUuid(field(data, 'scheduleId')) ? { scheduleId: field(data, 'scheduleId') as string } : undefined),
    // Fired by the schedule's job scheduler (`schedule:{id}`); creating the period's report is idempotent.
    options: { attempts: 5, backoff: { type: 'exponential', delay: 10_000 }, removeOnComplete: { age: 7 * 86_400, count: 10_000 }, removeOnFail: { age: 30 * 86_400 } },
  }),
  'deliver-callback': defineJob<{ eventId: string }, { outcome: string; attempt?: number; state?: string }>()({
    queues: [QUEUES.callbacks],
    parse: (data) => {
      const eventId = field(data, 'eventId');
      return typeof eventId === 'string' && /^msg_[A-Za-z0-9_-]{1,64}$/.test(eventId) ? { eventId } : undefined;
    },
    // attempts come from CALLBACK_RETRY_SCHEDULE at enqueue time; the delays from the notifier's backoff strategy.
    options: { backoff: { type: 'callback-schedule' }, removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } },
  }),
  'deliver-report': defineJob<{ reportId: string; run: number }, { outcome: 'delivered' | 'failed' | 'skipped'; files?: number }>()({
    queues: [QUEUES.deliveries],
    parse: (data) => {
      const reportId = field(data, 'reportId');
      const run = field(data, 'run');
      return isUuid(reportId) && Number.isInteger(run) && (run as number) > 0 ? { reportId, run: run as number } : undefined;
    },
    // Transient failures (the destination down, a timeout) are retried with exponential backoff: attempts and the
    // first delay come from DELIVERY_RETRY_BASE at enqueue time (9 attempts from 15 s: about an hour of retries).
    // Authentication and permission failures end the delivery at once. jobId: `{reportId}.{run}`.
    options: { attempts: 9, backoff: { type: 'exponential', delay: 15_000 }, removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } },
  }),
  'cdr-retention': defineJob<NoPayload, { dropped: string[] }>()({
    queues: [QUEUES.maintenance],
    parse: noPayload,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 100, removeOnFail: 500 },
    /** Daily at 03:15 UTC: drops CDR partitions past CDR_RETENTION. */
    schedule: { pattern: '15 3 * * *', tz: 'UTC' },
  }),
  'report-sweeper': defineJob<NoPayload, { filesDeleted: number; requeued: number; failed: number }>()({
    queues: [QUEUES.maintenance],
    parse: noPayload,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 },
    /** Every minute: deletes files past expires_at, recovers reports whose job was lost. */
    schedule: { every: 60_000 },
  }),
  'schedule-catch-up': defineJob<NoPayload, { created: number }>()({
    queues: [QUEUES.maintenance],
    parse: noPayload,
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 500 },
    /**
     * Every minute: creates the report of any period whose run was missed (BullMQ never back-fills runs
     * that fell while the cluster was down) and restores job schedulers Redis lost.
     */
    schedule: { every: 60_000 },
  }),
};

export type JobName = keyof typeof JOBS;
export type JobData<N extends JobName> = (typeof JOBS)[N] extends JobDefinition<infer D, unknown, readonly QueueName[]> ? D : never;
export type JobResult<N extends JobName> = (typeof JOBS)[N] extends JobDefinition<unknown, infer R, readonly QueueName[]> ? R : never;
/** A BullMQ job of one kind, typed from its definition. */
export type JobOf<N extends JobName> = Job<JobData<N>, JobResult<N>, N>;
/** Payload of every job, by name. */
export type JobPayloads = { [N in JobName]: JobData<N> };
/** The jobs that run on queue Q. */
export type JobsOn<Q extends QueueName> = { [N in JobName]: Q extends (typeof JOBS)[N]['queues'][number] ? N : never }[JobName];

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(JOBS, name);
}

/** Checks an export-segment payload at runtime; undefined for one no retry can fix. */
function parseExportSegmentPayload(data: unknown): ExportSegmentPayload | undefined {
  const d = data as Partial<ExportSegmentPayload> | null;
  if (!d || !isUuid(d.reportId)) return undefined;
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
