import { subtractPeriod, type CalendarPeriod } from '@cdr-reports/config';
import type { Pool } from '@cdr-reports/db';
import { listPartitions, type Partition } from './partitions';

/** The oldest instant still kept under `retention`, seen from `now`. */
export function retentionCutoff(now: Date, retention: CalendarPeriod): Date {
  return subtractPeriod(now, retention);
}

/**
 * Drops every monthly partition whose whole range lies before the retention cut-off. A partition that
 * straddles the cut-off is kept until it has aged out entirely, so no record younger than the cut-off
 * is ever dropped. Returns the partitions dropped.
 */
export async function dropExpiredPartitions(pool: Pool, now: Date, retention: CalendarPeriod): Promise<Partition[]> {
  const cutoff = retentionCutoff(now, retention);
  const expired = (await listPartitions(pool)).filter((p) => p.to.getTime() <= cutoff.getTime());
  for (const p of expired) {
    // DROP of a partition takes an exclusive lock on the parent only briefly; DETACH first would need two steps.
    await pool.query(`DROP TABLE IF EXISTS ${p.name}`);
  }
  return expired;
}
