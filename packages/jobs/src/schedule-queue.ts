import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOBS, QUEUES } from './catalog';

/** The job scheduler id of a scheduled export. */
export function jobSchedulerId(scheduleId: string): string {
  return `schedule:${scheduleId}`;
}

/**
 * The job schedulers of scheduled exports, one per active schedule, firing `run-schedule` at its cron in its
 * time zone. Upserted where a schedule changes (the API, the CLI) and restored by the catch-up job, never
 * by every replica at boot.
 */
export class ScheduleQueue {
  private readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue(QUEUES.schedules, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  /** Creates or replaces the schedule's job scheduler. */
  async upsert(schedule: { id: string; cron: string; timezone: string }): Promise<void> {
    await this.queue.upsertJobScheduler(
      jobSchedulerId(schedule.id),
      { pattern: schedule.cron, tz: schedule.timezone },
      { name: 'run-schedule', data: { scheduleId: schedule.id }, opts: JOBS['run-schedule'].options },
    );
  }

  /** Removes the schedule's job scheduler (paused or deleted); removing a missing one is not an error. */
  async remove(scheduleId: string): Promise<void> {
    await this.queue.removeJobScheduler(jobSchedulerId(scheduleId));
  }

  /** The pattern and time zone the scheduler fires on, or undefined when there is none. */
  async find(scheduleId: string): Promise<{ pattern?: string; tz?: string } | undefined> {
    const scheduler = await this.queue.getJobScheduler(jobSchedulerId(scheduleId));
    return scheduler ? { pattern: scheduler.pattern ?? undefined, tz: scheduler.tz ?? undefined } : undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
