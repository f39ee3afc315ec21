import type { JobHandler } from '@cdr-reports/jobs';
import type { ScheduleService } from '@cdr-reports/reports';

/** run-schedule: one run of a scheduled export creates its period's report (once). */
export function runSchedule(schedules: ScheduleService): JobHandler<'run-schedule'> {
  return async (job) => ({ created: (await schedules.runScheduled(job.data.scheduleId)).map((report) => report.id) });
}
