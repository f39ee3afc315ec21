import { dropExpiredPartitions } from '@cdr-reports/cdr-store';
import type { CalendarPeriod } from '@cdr-reports/config';
import type { Pool } from '@cdr-reports/db';
import type { Logger } from '@cdr-reports/logging';

/** Drops the CDR partitions past retention. Idempotent: a re-run finds nothing left to drop. */
export async function processCdrRetention(deps: { pool: Pool; retention: CalendarPeriod; logger: Logger }, now = new Date()) {
  const dropped = await dropExpiredPartitions(deps.pool, now, deps.retention);
  deps.logger.info({ dropped: dropped.map((p) => p.name) }, 'cdr retention: partitions past retention dropped');
  return { dropped: dropped.map((p) => p.name) };
}
