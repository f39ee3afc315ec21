import type { JobsOptions } from 'bullmq';

/**
 * Queue names and job names are persisted API: jobs already in Redis carry them across deploys.
 * Never rename one; add a new one and drain the old.
 */
export const QUEUES = {
  /** Maintenance jobs run by the worker on schedules: CDR retention, later the report sweeper. */
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Every job: its queue, the payload it carries (ids, never entities), and its retry policy. */
export const JOBS = {
  'cdr-retention': {
    queue: QUEUES.maintenance,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: 100, removeOnFail: 500 },
    /** Daily at 03:15 UTC: drops CDR partitions past CDR_RETENTION. */
    schedule: { pattern: '15 3 * * *', tz: 'UTC' },
  },
} as const satisfies Record<string, { queue: QueueName; options: JobsOptions; schedule?: { pattern: string; tz: string } }>;

export type JobName = keyof typeof JOBS;

/** Payload of every job, checked again by the consumer: a job may have been enqueued by the previous deploy. */
export interface JobPayloads {
  'cdr-retention': Record<string, never>;
}

export function isJobName(name: string): name is JobName {
  return Object.prototype.hasOwnProperty.call(JOBS, name);
}
