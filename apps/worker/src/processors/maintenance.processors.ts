import { dropExpiredPartitions } from '@cdr-reports/cdr-store';
import type { CalendarPeriod } from '@cdr-reports/config';
import type { Pool } from '@cdr-reports/db';
import type { JobHandler } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ReportRunner } from '@cdr-reports/report-runner';
import type { ScheduleService } from '@cdr-reports/reports';

/** cdr-retention: drops the CDR partitions past retention. Idempotent: a re-run finds nothing left to drop. */
export async function processCdrRetention(deps: { pool: Pool; retention: CalendarPeriod; logger: Logger }, now = new Date()): Promise<{ dropped: string[] }> {
  const dropped = (await dropExpiredPartitions(deps.pool, now, deps.retention)).map((p) => p.name);
  deps.logger.info({ dropped }, 'cdr retention: partitions past retention dropped');
  return { dropped };
}

export function cdrRetention(deps: { pool: Pool; retention: CalendarPeriod; logger: Logger }): JobHandler<'cdr-retention'> {
  return () => processCdrRetention(deps);
}

/** report-sweeper: expired files deleted, lost reports recovered (see ReportRunner.sweep). */
export function reportSweeper(runner: ReportRunner): JobHandler<'report-sweeper'> {
  return () => runner.sweep();
}

/** schedule-catch-up: the reports of periods whose run was missed, and job schedulers Redis lost. */
export function scheduleCatchUp(schedules: ScheduleService): JobHandler<'schedule-catch-up'> {
  return async () => ({ created: await schedules.catchUp() });
}
