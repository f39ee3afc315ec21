import type { ScheduleRecord, ScheduleSettings, SchedulePeriod } from '@cdr-reports/domain';
import type { Pool } from './pool';

interface ScheduleRow {
  id: string;
  account_id: string;
  name: string;
  cron: string;
  timezone: string;
  period: SchedulePeriod;
  report: ScheduleSettings['report'];
  callback_url: string | null;
  paused: boolean;
  active_since: Date;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, account_id, name, cron, timezone, period, report, callback_url, paused, active_since, created_at, updated_at';

function toRecord(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    period: row.period,
    // Schedules stored before formats existed made CSV reports.
    report: row.report.format ? row.report : { ...row.report, format: 'csv' },
    ...(row.callback_url !== null && { callback_url: row.callback_url }),
    paused: row.paused,
    activeSince: row.active_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Scheduled exports. Deleted schedules are kept (their reports name them) but no longer found. */
export class SchedulesRepository {
  constructor(private readonly pool: Pool) {}

  async create(id: string, accountId: string, settings: ScheduleSettings): Promise<ScheduleRecord> {
    const result = await this.pool.query<ScheduleRow>(
      `INSERT INTO schedules (id, account_id, name, cron, timezone, period, report, callback_url, paused)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [id, accountId, settings.name, settings.cron, settings.timezone, settings.period, settings.report, settings.callback_url ?? null, settings.paused],
    );
    return toRecord(result.rows[0]!);
  }

  async find(id: string): Promise<ScheduleRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const result = await this.pool.query<ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return result.rows[0] ? toRecord(result.rows[0]) : undefined;
  }

  /** The schedules of these accounts, newest first. */
  async list(accountIds: readonly string[]): Promise<ScheduleRecord[]> {
    const result = await this.pool.query<ScheduleRow>(
      `SELECT ${COLUMNS} FROM schedules WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`,
      [accountIds],
    );
    return result.rows.map(toRecord);
  }

  /** Every schedule not deleted, newest first (the operator's list). */
  async listAll(): Promise<ScheduleRecord[]> {
    const result = await this.pool.query<ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC`);
    return result.rows.map(toRecord);
  }

  /** Every schedule that is not paused or deleted: what the catch-up walks. */
  async listActive(): Promise<ScheduleRecord[]> {
    const result = await this.pool.query<ScheduleRow>(`SELECT ${COLUMNS} FROM schedules WHERE deleted_at IS NULL AND NOT paused ORDER BY id`);
    return result.rows.map(toRecord);
  }

  /**
   * Replaces the settings. `restartRuns` moves active_since to now: runs are due only from now on (on resume,
   * and when the timing changed, so that no period is back-filled under the new timing).
   */
  async update(id: string, settings: ScheduleSettings, restartRuns: boolean): Promise<ScheduleRecord | undefined> {
    const result = await this.pool.query<ScheduleRow>(
      `UPDATE schedules SET name = $2, cron = $3, timezone = $4, period = $5, report = $6, callback_url = $7, paused = $8,
         active_since = CASE WHEN $9 THEN now() ELSE active_since END, updated_at = now()
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, settings.name, settings.cron, settings.timezone, settings.period, settings.report, settings.callback_url ?? null, settings.paused, restartRuns],
    );
    return result.rows[0] ? toRecord(result.rows[0]) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.pool.query(`UPDATE schedules SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return result.rowCount === 1;
  }

  /** The local start dates ('YYYY-MM-DD') of the periods among `periodStarts` that already have their report. */
  async periodsWithReports(scheduleId: string, periodStarts: readonly string[]): Promise<Set<string>> {
    const result = await this.pool.query<{ period_start: string }>(
      `SELECT to_char(period_start, 'YYYY-MM-DD') AS period_start FROM reports WHERE schedule_id = $1 AND period_start = ANY($2::date[])`,
      [scheduleId, periodStarts],
    );
    return new Set(result.rows.map((row) => row.period_start));
  }
}
