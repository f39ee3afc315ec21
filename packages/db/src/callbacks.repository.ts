import type { ReportRecord } from '@cdr-reports/domain';
import type { Pool } from './pool';
import { reportFromJson } from './reports.repository';

export type CallbackState = 'pending' | 'delivered' | 'failed';

export interface CallbackEvent {
  id: string;
  reportId: string;
  accountId: string;
  type: string;
  url: string;
  state: CallbackState;
  payload: string | null;
  deliveries: number;
  createdAt: Date;
  deliveredAt: Date | null;
}

export interface CallbackAttempt {
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

interface EventRow {
  id: string;
  report_id: string;
  account_id: string;
  type: string;
  url: string;
  state: CallbackState;
  payload: string | null;
  deliveries: number;
  created_at: Date;
  delivered_at: Date | null;
}

const COLUMNS = 'id, report_id, account_id, type, url, state, payload, deliveries, created_at, delivered_at';

const toEvent = (row: EventRow): CallbackEvent => ({
  id: row.id,
  reportId: row.report_id,
  accountId: row.account_id,
  type: row.type,
  url: row.url,
  state: row.state,
  payload: row.payload,
  deliveries: row.deliveries,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
});

/** The callback outbox and its delivery log. Events are created with a report's terminal state (ReportsRepository). */
export class CallbacksRepository {
  constructor(private readonly pool: Pool) {}

  async find(id: string): Promise<CallbackEvent | undefined> {
    const result = await this.pool.query<EventRow>(`SELECT ${COLUMNS} FROM callback_events WHERE id = $1`, [id]);
    return result.rows[0] ? toEvent(result.rows[0]) : undefined;
  }

  async findByReport(reportId: string): Promise<CallbackEvent | undefined> {
    const result = await this.pool.query<EventRow>(`SELECT ${COLUMNS} FROM callback_events WHERE report_id = $1`, [reportId]);
    return result.rows[0] ? toEvent(result.rows[0]) : undefined;
  }

  /** Events recorded before `before` that were never handed to the queue (their process died first). */
  async unqueued(before: Date, limit: number): Promise<CallbackEvent[]> {
    const result = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM callback_events WHERE enqueued_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2`,
      [before, limit],
    );
    return result.rows.map(toEvent);
  }

  async markEnqueued(id: string): Promise<void> {
    await this.pool.query('UPDATE callback_events SET enqueued_at = now(), updated_at = now() WHERE id = $1', [id]);
  }

  /**
   * An event as a delivery attempt needs it, in one query: the secrets to sign with (the account's current
   * one, and the previous one within 24 h of a rotation) and, until the body is fixed, the report it is about.
   */
  async forDelivery(id: string): Promise<(CallbackEvent & { secrets: string[]; report: ReportRecord | undefined }) | undefined> {
    const result = await this.pool.query<EventRow & { webhook_secret: string; previous: string | null; report: Record<string, unknown> | null }>(
      `SELECT ${COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}, a.webhook_secret,
         CASE WHEN a.previous_secret_expires_at > now() THEN a.previous_webhook_secret END AS previous,
         CASE WHEN e.payload IS NULL THEN (SELECT row_to_json(r) FROM reports r WHERE r.id = e.report_id) END AS report
       FROM callback_events e JOIN accounts a ON a.id = e.account_id WHERE e.id = $1`,
      [id],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      ...toEvent(row),
      secrets: row.previous ? [row.webhook_secret, row.previous] : [row.webhook_secret],
      report: row.report ? reportFromJson(row.report) : undefined,
    };
  }

  /**
   * Appends an attempt to the event's log and moves the event to `state` (delivered, failed, or still
   * pending), in one statement; on the first attempt it also fixes the body that every retry sends.
   * Returns the attempt's number.
   */
  async recordAttempt(
    id: string,
    attempt: Omit<CallbackAttempt, 'attempt' | 'attemptedAt'>,
    state: CallbackState,
    payload: string | null = null,
  ): Promise<number> {
    const result = await this.pool.query<{ attempt: number }>(
      `WITH attempt AS (
         INSERT INTO callback_attempts (event_id, attempt, status_code, duration_ms, error)
         SELECT $1, COALESCE(max(attempt), 0) + 1, $2, $3, $4 FROM callback_attempts WHERE event_id = $1
         RETURNING attempt
       ), event AS (
         UPDATE callback_events SET state = $5, payload = COALESCE(payload, $6),
           delivered_at = CASE WHEN $5 = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
         WHERE id = $1 AND state = 'pending'
       )
       SELECT attempt FROM attempt`,
      [id, attempt.statusCode, Math.round(attempt.durationMs), attempt.error, state, payload],
    );
    return result.rows[0]!.attempt;
  }

  /** Starts a new delivery of the same event (same id, same body); returns its delivery number. */
  async redeliver(id: string): Promise<number> {
    const result = await this.pool.query<{ deliveries: number }>(
      `UPDATE callback_events SET state = 'pending', deliveries = deliveries + 1, enqueued_at = NULL, updated_at = now()
       WHERE id = $1 RETURNING deliveries`,
      [id],
    );
    return result.rows[0]!.deliveries;
  }

  async attempts(id: string): Promise<CallbackAttempt[]> {
    const result = await this.pool.query<{ attempt: number; attempted_at: Date; status_code: number | null; duration_ms: number; error: string | null }>(
      'SELECT attempt, attempted_at, status_code, duration_ms, error FROM callback_attempts WHERE event_id = $1 ORDER BY attempt',
      [id],
    );
    return result.rows.map((r) => ({ attempt: r.attempt, attemptedAt: r.attempted_at, statusCode: r.status_code, durationMs: r.duration_ms, error: r.error }));
  }
}
