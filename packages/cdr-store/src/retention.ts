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
    // DETACH ... CONCURRENTLY waits for queries using the partition instead of locking cdrs as a whole, so
    // running reports and imports carry on; it cannot run inside a transaction, so it uses a pool connection.
    await pool.query(`ALTER TABLE cdrs DETACH PARTITION ${p.name} CONCURRENTLY`).catch((error: { code?: string }) => {
      // 42P01: already gone; 42P16/55000: a detach interrupted earlier is finished with FINALIZE.
      if (error.code === '42P01') return;
      if (error.code === '55000' || error.code === '42P16') return pool.query(`ALTER TABLE cdrs DETACH PARTITION ${p.name} FINALIZE`);
      throw error;
    });
    await pool.query(`DROP TABLE IF EXISTS ${p.name}`);
  }
  return expired;
}
