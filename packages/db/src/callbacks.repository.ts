import type { ReportRecord } from '@cdr-reports/domain';
import type { Pool } from './pool';
import { Batcher } from '@cdr-reports/batching';
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

/** An event with what a delivery attempt needs (CallbacksRepository.forDelivery). */
export type DeliverableEvent = CallbackEvent & { secrets: string[]; report: ReportRecord | undefined };

interface AttemptRecord extends Omit<CallbackAttempt, 'attempt' | 'attemptedAt'> {
  id: string;
  state: CallbackState;
  payload: string | null;
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

  /** The report's latest event (a report with a destination may have one per delivery). */
  async findByReport(reportId: string): Promise<CallbackEvent | undefined> {
    const result = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM callback_events WHERE report_id = $1 ORDER BY created_at DESC, delivery_run DESC LIMIT 1`,
      [reportId],
    );
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
   * An event as a delivery attempt needs it: the secrets to sign with (the account's current one, and the
   * previous one within 24 h of a rotation) and, until the body is fixed, the report it is about.
   * Concurrent calls are answered by one query (see Batcher).
   */
  forDelivery(id: string): Promise<DeliverableEvent | undefined> {
    return this.deliveryReads.call(id);
  }

  /**
   * Appends an attempt to the event's log and moves the event to `state` (delivered, failed, or still
   * pending); on the first attempt it also fixes the body that every retry sends. Returns the attempt's
   * number. Concurrent calls are written by one statement (see Batcher).
   */
  recordAttempt(
    id: string,
    attempt: Omit<CallbackAttempt, 'attempt' | 'attemptedAt'>,
    state: CallbackState,
    payload: string | null = null,
  ): Promise<number> {
    return this.attemptWrites.call({ id, ...attempt, state, payload });
  }

  private readonly deliveryReads = new Batcher<string, DeliverableEvent | undefined>(async (ids) => {
    const result = await this.pool.query<EventRow & { webhook_secret: string; previous: string | null; report: Record<string, unknown> | null }>({
      name: 'callbacks-for-delivery',
      text: `SELECT ${COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}, a.webhook_secret,
         CASE WHEN a.previous_secret_expires_at > now() THEN a.previous_webhook_secret END AS previous,
         CASE WHEN e.payload IS NULL THEN (SELECT row_to_json(r) FROM reports r WHERE r.id = e.report_id) END AS report
       FROM callback_events e JOIN accounts a ON a.id = e.account_id WHERE e.id = ANY($1::text[])`,
      values: [ids],
    });
    const byId = new Map(
      result.rows.map((row) => [
        row.id,
        {
          ...toEvent(row),
          secrets: row.previous ? [row.webhook_secret, row.previous] : [row.webhook_secret],
          report: row.report ? reportFromJson(row.report) : undefined,
        },
      ]),
    );
    return ids.map((id) => byId.get(id));
  });

  private readonly attemptWrites = new Batcher<AttemptRecord, number>(async (records) => {
    // Each event's row is updated once per batch: its attempt counter moves by the number of its attempts here
    // (numbered in the order they were made), and it takes the state of the last of them while pending.
    const result = await this.pool.query<{ ord: string; attempt: number }>({
      name: 'callbacks-record-attempts',
      text: `WITH input AS (
         SELECT t.*,
           row_number() OVER (PARTITION BY t.id ORDER BY t.ord)::int AS nth,
           count(*) OVER (PARTITION BY t.id)::int AS attempts,
           first_value(t.payload) OVER (PARTITION BY t.id ORDER BY t.ord) AS first_payload
         FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[])
           WITH ORDINALITY AS t(id, status_code, duration_ms, error, state, payload, ord)
       ), latest AS (
         SELECT DISTINCT ON (id) * FROM input ORDER BY id, ord DESC
       ), events AS (
         UPDATE callback_events e SET
           attempt_count = e.attempt_count + latest.attempts,
           state = CASE WHEN e.state = 'pending' THEN latest.state ELSE e.state END,
           payload = COALESCE(e.payload, latest.first_payload),
           delivered_at = CASE WHEN e.state = 'pending' AND latest.state = 'delivered' THEN now() ELSE e.delivered_at END,
           updated_at = now()
         FROM latest WHERE e.id = latest.id
         RETURNING e.id, e.attempt_count
       ), numbered AS (
         SELECT i.*, events.attempt_count - i.attempts + i.nth AS attempt FROM input i JOIN events ON events.id = i.id
       ), logged AS (
         INSERT INTO callback_attempts (event_id, attempt, status_code, duration_ms, error)
         SELECT id, attempt, status_code, duration_ms, error FROM numbered
       )
       SELECT ord, attempt FROM numbered`,
      values: [
        records.map((r) => r.id),
        records.map((r) => r.statusCode),
        records.map((r) => Math.round(r.durationMs)),
        records.map((r) => r.error),
        records.map((r) => r.state),
        records.map((r) => r.payload),
      ],
    });
    const byOrdinal = new Map(result.rows.map((row) => [Number(row.ord), row.attempt]));
    return records.map((record, index) => {
      // The others are written: only this call fails.
      return byOrdinal.get(index + 1) ?? new Error(`callback event ${record.id} does not exist`);
    });
  });

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
