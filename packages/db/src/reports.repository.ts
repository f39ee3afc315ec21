import { randomBytes } from 'node:crypto';
import { ConflictError, type DeliveryState, type Manifest, type ReportError, type ReportFile, type ReportFileEntry, type ReportRecord, type ReportRequest, type ReportStatus, type ReportSummary } from '@cdr-reports/domain';
import { Batcher } from '@cdr-reports/batching';
import { withTransaction, type Pool } from './pool';

/** The same Idempotency-Key was used with a different request body: 422. */
export class IdempotencyMismatchError extends ConflictError {
  override name = 'IdempotencyMismatchError';
}

/** How long an Idempotency-Key binds its report. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

interface ReportRow {
  id: string;
  account_id: string;
  requested_by: string;
  request: ReportRequest;
  status: ReportStatus;
  receive_time: Date;
  start_time: Date | null;
  end_time: Date | null;
  items_count: string | null;
  progress_items: string | null;
  progress_percent: string | null;
  summary: ReportSummary | null;
  file_key: string | null;
  file_name: string | null;
  file_size: string | null;
  content_type: string | null;
  expires_at: Date | null;
  file_deleted_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  schedule_id: string | null;
  period_start: string | null;
  files: ReportFileEntry[] | null;
  manifest_key: string | null;
  delivery_destination_id: string | null;
  delivery_state: DeliveryState | null;
  delivery_run: number;
  delivered_at: Date | null;
  delivery_error_step: string | null;
  delivery_error: string | null;
  delivery_manifest_key: string | null;
  delivery_file_keys: string[] | null;
}

const num = (value: string | number | null): number | null => (value === null ? null : Number(value));

/**
 * A report from `row_to_json(reports)`, for queries that fetch a report alongside other rows in one round trip:
 * timestamps arrive as text and counts as JSON numbers (all of them integers or two-decimal percentages).
 */
export function reportFromJson(json: Record<string, unknown>): ReportRecord {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(String(value)));
  const text = (value: unknown) => (value === null || value === undefined ? null : String(value));
  return toRecord({
    ...(json as unknown as ReportRow),
    receive_time: date(json.receive_time)!,
    start_time: date(json.start_time),
    end_time: date(json.end_time),
    expires_at: date(json.expires_at),
    file_deleted_at: date(json.file_deleted_at),
    delivered_at: date(json.delivered_at),
    delivery_run: Number(json.delivery_run ?? 0),
    items_count: text(json.items_count),
    progress_items: text(json.progress_items),
    progress_percent: text(json.progress_percent),
    file_size: text(json.file_size),
  });
}

function toRecord(row: ReportRow): ReportRecord {
  const file: ReportFile | null =
    row.file_name === null ? null : { name: row.file_name, size_bytes: Number(row.file_size), content_type: row.content_type ?? '' };
  const error: ReportError | null = row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' };
  return {
    id: row.id,
    accountId: row.account_id,
    requestedBy: row.requested_by,
    // Reports stored before formats existed were CSV.
    request: row.request.format ? row.request : { ...row.request, format: 'csv' },
    status: row.status,
    receiveTime: row.receive_time,
    startTime: row.start_time,
    endTime: row.end_time,
    itemsCount: num(row.items_count),
    progressItems: num(row.progress_items),
    progressPercent: num(row.progress_percent),
    summary: row.summary,
    fileKey: row.file_key,
    file,
    expiresAt: row.expires_at,
    fileDeletedAt: row.file_deleted_at,
    error,
    attempts: row.attempts,
    scheduleId: row.schedule_id ?? null,
    periodStart: row.period_start ?? null,
    files: row.files ?? null,
    manifestKey: row.manifest_key ?? null,
    delivery:
      row.delivery_destination_id && row.delivery_state
        ? {
            destinationId: row.delivery_destination_id,
            state: row.delivery_state,
            run: row.delivery_run,
            deliveredAt: row.delivered_at ?? null,
            error: row.delivery_error_step ? { step: row.delivery_error_step, message: row.delivery_error ?? '' } : null,
            manifestKey: row.delivery_manifest_key ?? null,
            fileKeys: row.delivery_file_keys ?? null,
          }
        : null,
  };
}

export interface NewReport {
  id: string;
  requestedBy: string;
  request: ReportRequest;
  /** Idempotency-Key header and the hash of the request body it came with. */
  idempotency?: { key: string; requestHash: string };
  /**
   * A scheduled run: the schedule and the local start date of its period (one report per pair). With
   * `replaceUnsuccessful`, a FAILED or ABORTED report of the period stops holding it (it stays among the
   * schedule's reports, without a period) and a new one is made: a run-now after a failure.
   */
  schedule?: { id: string; periodStart: string; replaceUnsuccessful?: boolean };
}

export interface ReportListFilter {
  /** Accounts whose reports are listed (the caller's own and its descendants). */
  accountIds: string[];
  status?: ReportStatus;
  createdAfter?: Date;
  createdBefore?: Date;
  /** Keyset cursor: list reports older than this report (by receive_time, then id), exact to the microsecond. */
  beforeId?: string;
  limit: number;
}

/** The outcome of moving a report to a terminal state. */
export interface TerminalChange {
  /** False when the report had already left the state the change starts from. */
  changed: boolean;
  /** The callback event recorded with the change, when the report has a callback_url: deliver it. */
  eventId?: string;
}

export type CallbackEventType = 'report.completed' | 'report.failed' | 'report.aborted' | 'report.delivery_failed';

/** A new webhook-id: Standard Webhooks' `msg_` and 24 random characters. */
export function newEventId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

export interface CompletedReport {
  itemsCount: number;
  summary: ReportSummary;
  fileKey: string;
  file: ReportFile;
  /** Every file, in order (the first is `fileKey`/`file`). */
  files: ReportFileEntry[];
  /** The manifest, stored in our bucket at `manifestKey` before this is called. */
  manifestKey: string;
  manifest: Manifest;
  endTime: Date;
  expiresAt: Date;
}

/** A delivery that may have lost its job: PENDING and not touched for a while. */
export interface PendingDelivery {
  reportId: string;
  run: number;
}

const COLUMNS = `id, account_id, requested_by, request, status, receive_time, start_time, end_time, items_count,
  progress_items, progress_percent, summary, file_key, file_name, file_size, content_type, expires_at,
  file_deleted_at, error_code, error_message, attempts, schedule_id, to_char(period_start, 'YYYY-MM-DD') AS period_start,
  files, manifest_key, delivery_destination_id, delivery_state, delivery_run, delivered_at, delivery_error_step, delivery_error,
  delivery_manifest_key, delivery_file_keys`;

export class ReportsRepository {
  constructor(private readonly pool: Pool) {}

  /** Reports without an idempotency key or schedule: one multi-row INSERT per batch of concurrent requests. */
  private readonly plainInserts = new Batcher<NewReport, ReportRecord>(async (inputs) => {
    const inserted = await this.pool.query<ReportRow>({
      name: 'reports-create-many',
      text: `INSERT INTO reports (id, account_id, requested_by, product, request)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
         RETURNING ${COLUMNS}`,
      values: [
        inputs.map((input) => input.id),
        inputs.map((input) => input.request.account_id),
        inputs.map((input) => input.requestedBy),
        inputs.map((input) => input.request.product),
        inputs.map((input) => JSON.stringify(input.request)),
      ],
    });
    const byId = new Map(inserted.rows.map((row) => [row.id, toRecord(row)]));
    return inputs.map((input) => byId.get(input.id) ?? new Error(`report ${input.id} was not inserted`));
  });

  /**
   * Records a new report, or returns the report an earlier request with the same Idempotency-Key made
   * (`created: false`). A key reused within 24 h with another body is an IdempotencyMismatchError.
   */
  async create(input: NewReport): Promise<{ report: ReportRecord; created: boolean }> {
    if (input.schedule) {
      if (input.schedule.replaceUnsuccessful) {
        await this.pool.query(
          `UPDATE reports SET period_start = NULL, updated_at = now()
           WHERE schedule_id = $1 AND period_start = $2 AND status IN ('FAILED', 'ABORTED')`,
          [input.schedule.id, input.schedule.periodStart],
        );
      }
      // The report of a schedule's period exists once: a second run (a retry, the catch-up, run-now) finds it.
      const inserted = await this.pool.query<ReportRow>(
        `INSERT INTO reports (id, account_id, requested_by, product, request, schedule_id, period_start) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (schedule_id, period_start) WHERE schedule_id IS NOT NULL DO NOTHING RETURNING ${COLUMNS}`,
        [input.id, input.request.account_id, input.requestedBy, input.request.product, input.request, input.schedule.id, input.schedule.periodStart],
      );
      if (inserted.rows[0]) return { report: toRecord(inserted.rows[0]), created: true };
      const existing = await this.pool.query<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE schedule_id = $1 AND period_start = $2`, [
        input.schedule.id,
        input.schedule.periodStart,
      ]);
      return { report: toRecord(existing.rows[0]!), created: false };
    }
    if (!input.idempotency) {
      // Without an idempotency key a report is one row of an INSERT that concurrent requests share (see Batcher).
      return { report: await this.plainInserts.call(input), created: true };
    }
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        if (input.idempotency) {
          const existing = await client.query<{ request_hash: string; report_id: string; fresh: boolean }>(
            `SELECT request_hash, report_id, created_at > now() - make_interval(hours => $3) AS fresh
             FROM report_idempotency_keys WHERE account_id = $1 AND key = $2 FOR UPDATE`,
            [input.requestedBy, input.idempotency.key, IDEMPOTENCY_WINDOW_HOURS],
          );
          const row = existing.rows[0];
          if (row?.fresh) {
            await client.query('COMMIT');
            if (row.request_hash !== input.idempotency.requestHash) {
              throw new IdempotencyMismatchError('this Idempotency-Key was used with a different request body in the last 24 hours');
            }
            const report = await this.find(row.report_id);
            if (!report) throw new Error(`report ${row.report_id} of an idempotency key is missing`);
            return { report, created: false };
          }
          if (row) await client.query('DELETE FROM report_idempotency_keys WHERE account_id = $1 AND key = $2', [input.requestedBy, input.idempotency.key]);
        }
        const inserted = await client.query<ReportRow>(
          `INSERT INTO reports (id, account_id, requested_by, product, request) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [input.id, input.request.account_id, input.requestedBy, input.request.product, input.request],
        );
        if (input.idempotency) {
          await client.query('INSERT INTO report_idempotency_keys (account_id, key, request_hash, report_id) VALUES ($1, $2, $3, $4)', [
            input.requestedBy,
            input.idempotency.key,
            input.idempotency.requestHash,
            input.id,
          ]);
        }
        await client.query('COMMIT');
        return { report: toRecord(inserted.rows[0]!), created: true };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Two requests with the same new key raced; the loser reads the winner's report on the next turn.
        if ((error as { code?: string }).code === '23505' && input.idempotency && attempt < 3) continue;
        throw error;
      } finally {
        client.release();
      }
    }
  }

  /** The reports a schedule created, newest period first. */
  async bySchedule(scheduleId: string, limit: number): Promise<ReportRecord[]> {
    const result = await this.pool.query<ReportRow>(
      `SELECT ${COLUMNS} FROM reports WHERE schedule_id = $1 ORDER BY period_start DESC NULLS LAST, receive_time DESC LIMIT $2`,
      [scheduleId, limit],
    );
    return result.rows.map(toRecord);
  }

  async find(id: string): Promise<ReportRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const result = await this.pool.query<ReportRow>(`SELECT ${COLUMNS} FROM reports WHERE id = $1`, [id]);
    return result.rows[0] ? toRecord(result.rows[0]) : undefined;
  }

  /** Newest first. The status filter is on the status callers see: a SUCCESS past expires_at is EXPIRED. */
  async list(filter: ReportListFilter): Promise<ReportRecord[]> {
    const result = await this.pool.query<ReportRow>(
      `SELECT ${COLUMNS} FROM reports
       WHERE account_id = ANY($1)
         AND ($2::text IS NULL
              OR ($2 = 'SUCCESS' AND status = 'SUCCESS' AND expires_at > now())
              OR ($2 = 'EXPIRED' AND (status = 'EXPIRED' OR (status = 'SUCCESS' AND expires_at <= now())))
              OR ($2 NOT IN ('SUCCESS', 'EXPIRED') AND status = $2))
         AND ($3::timestamptz IS NULL OR receive_time >= $3)
         AND ($4::timestamptz IS NULL OR receive_time < $4)
         AND ($5::uuid IS NULL OR (receive_time, id) < (SELECT r.receive_time, r.id FROM reports r WHERE r.id = $5::uuid))
       ORDER BY receive_time DESC, id DESC
       LIMIT $6`,
      [
        filter.accountIds,
        filter.status ?? null,
        filter.createdAfter ?? null,
        filter.createdBefore ?? null,
        filter.beforeId ?? null,
        filter.limit,
      ],
    );
    return result.rows.map(toRecord);
  }

  /** Moves a PENDING (or re-run PROCESSING) report to PROCESSING; undefined when it is already terminal. */
  /**
   * Moves the report to PROCESSING (again, for a retry) and returns it; undefined when it is no longer
   * PENDING or PROCESSING. With `accountCap`, answers 'capped' instead while that many other reports of its
   * account are PROCESSING: the check and the change hold the account's lock, so no two workers both pass.
   */
  async startProcessing(id: string, accountCap?: number): Promise<ReportRecord | 'capped' | undefined> {
    const start = `UPDATE reports SET status = 'PROCESSING', start_time = COALESCE(start_time, now()), attempts = attempts + 1,
         progress_items = 0, progress_percent = 0, updated_at = now()
       WHERE id = $1 AND status IN ('PENDING', 'PROCESSING') RETURNING ${COLUMNS}`;
    if (accountCap === undefined) {
      const result = await this.pool.query<ReportRow>(start, [id]);
      return result.rows[0] ? toRecord(result.rows[0]) : undefined;
    }
    return withTransaction(this.pool, async (client) => {
      const owner = await client.query<{ account_id: string }>('SELECT account_id FROM reports WHERE id = $1', [id]);
      if (!owner.rows[0]) return undefined;
      const accountId = owner.rows[0].account_id;
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('report-cap:' || $1))`, [accountId]);
      // A statement of its own, after the lock: it sees what the previous holder committed.
      const running = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM reports WHERE account_id = $1 AND status = 'PROCESSING' AND id <> $2`,
        [accountId, id],
      );
      if (running.rows[0]!.n >= accountCap) return 'capped' as const;
      const result = await client.query<ReportRow>(start, [id]);
      return result.rows[0] ? toRecord(result.rows[0]) : undefined;
    });
  }

  /** Records progress; returns the current status so the worker notices an abort. */
  async recordProgress(id: string, items: number, percent: number): Promise<ReportStatus | undefined> {
    const result = await this.pool.query<{ status: ReportStatus }>(
      `UPDATE reports SET progress_items = CASE WHEN status = 'PROCESSING' THEN $2 ELSE progress_items END,
         progress_percent = CASE WHEN status = 'PROCESSING' THEN $3 ELSE progress_percent END,
         updated_at = now()
       WHERE id = $1 RETURNING status`,
      [id, items, Math.min(100, Math.max(0, Math.round(percent * 100) / 100))],
    );
    return result.rows[0]?.status;
  }

  /** Adds a finished segment's rows and share of the range to the progress; returns the status (abort check). */
  async addProgress(id: string, items: number, percent: number): Promise<ReportStatus | undefined> {
    const result = await this.pool.query<{ status: ReportStatus }>(
      `UPDATE reports SET progress_items = CASE WHEN status = 'PROCESSING' THEN progress_items + $2 ELSE progress_items END,
         progress_percent = CASE WHEN status = 'PROCESSING' THEN LEAST(99.99, progress_percent + $3) ELSE progress_percent END,
         updated_at = now()
       WHERE id = $1 RETURNING status`,
      [id, items, Math.max(0, Math.round(percent * 100) / 100)],
    );
    return result.rows[0]?.status;
  }

  /**
   * PROCESSING -> SUCCESS, with its callback event; unchanged when the report left PROCESSING (aborted). A report
   * with a destination_id starts its delivery (PENDING, run 1) instead: its report.completed waits for the
   * delivery to end DELIVERED (deliveryEnded).
   */
  async complete(id: string, done: CompletedReport): Promise<TerminalChange & { delivery?: { run: number } }> {
    const delivers = done.manifest.request.destination_id !== undefined;
    const change = await this.toTerminal(
      id,
      delivers ? undefined : 'report.completed',
      `UPDATE reports SET status = 'SUCCESS', items_count = $2, summary = $3, file_key = $4, file_name = $5, file_size = $6,
         content_type = $7, end_time = $8, expires_at = $9, progress_items = $2, progress_percent = 100,
         error_code = NULL, error_message = NULL, files = $10, manifest_key = $11, manifest = $12, updated_at = now(),
         delivery_destination_id = (request->>'destination_id')::uuid,
         delivery_state = CASE WHEN request->>'destination_id' IS NULL THEN NULL ELSE 'PENDING' END,
         delivery_run = CASE WHEN request->>'destination_id' IS NULL THEN 0 ELSE 1 END,
         delivery_updated_at = now()
       WHERE id = $1 AND status = 'PROCESSING'`,
      [id, done.itemsCount, done.summary, done.fileKey, done.file.name, done.file.size_bytes, done.file.content_type, done.endTime, done.expiresAt,
        JSON.stringify(done.files), done.manifestKey, JSON.stringify(done.manifest)],
    );
    return delivers && change.changed ? { ...change, delivery: { run: 1 } } : change;
  }

  /** The manifest of a SUCCESS report, exactly as written next to its files. */
  async manifest(id: string): Promise<Manifest | undefined> {
    const result = await this.pool.query<{ manifest: Manifest | null }>('SELECT manifest FROM reports WHERE id = $1', [id]);
    return result.rows[0]?.manifest ?? undefined;
  }

  /**
   * The end of delivery `run`: DELIVERED (with the manifest's key in the destination) and report.completed, or
   * FAILED (with the step) and report.delivery_failed, the event recorded in the same transaction. Unchanged
   * when that run is not the PENDING one (ended already, or a redeliver started a newer run).
   */
  async deliveryEnded(
    id: string,
    run: number,
    outcome: { delivered: true; manifestKey: string; fileKeys: string[] } | { delivered: false; step: string; message: string },
  ): Promise<TerminalChange> {
    return this.toTerminal(
      id,
      outcome.delivered ? 'report.completed' : 'report.delivery_failed',
      outcome.delivered
        ? `UPDATE reports SET delivery_state = 'DELIVERED', delivered_at = now(), delivery_manifest_key = $3, delivery_file_keys = $4, delivery_error_step = NULL,
             delivery_error = NULL, delivery_updated_at = now() WHERE id = $1 AND delivery_run = $2 AND delivery_state = 'PENDING'`
        : `UPDATE reports SET delivery_state = 'FAILED', delivery_error_step = $3, delivery_error = $4, delivery_updated_at = now()
             WHERE id = $1 AND delivery_run = $2 AND delivery_state = 'PENDING'`,
      outcome.delivered ? [id, run, outcome.manifestKey, JSON.stringify(outcome.fileKeys)] : [id, run, outcome.step, outcome.message.slice(0, 1000)],
      run,
    );
  }

  /**
   * Starts a new delivery of a SUCCESS report whose files are still kept: PENDING with the next run number.
   * 'not-found' without a destination or files; 'in-progress' while a delivery is PENDING.
   */
  async startRedelivery(id: string, now: Date): Promise<{ run: number } | 'expired' | 'in-progress' | 'no-destination'> {
    const result = await this.pool.query<{ delivery_run: number }>(
      `UPDATE reports SET delivery_state = 'PENDING', delivery_run = delivery_run + 1, delivery_error_step = NULL, delivery_error = NULL,
         delivery_updated_at = now()
       WHERE id = $1 AND status = 'SUCCESS' AND expires_at > $2 AND file_deleted_at IS NULL AND delivery_destination_id IS NOT NULL
         AND delivery_state <> 'PENDING'
       RETURNING delivery_run`,
      [id, now],
    );
    if (result.rows[0]) return { run: result.rows[0].delivery_run };
    const report = await this.find(id);
    if (!report?.delivery) return 'no-destination';
    if (report.delivery.state === 'PENDING' && report.status === 'SUCCESS') return 'in-progress';
    return 'expired';
  }

  /** Deliveries PENDING and not touched since `before`: candidates for a lost job. */
  async stalePendingDeliveries(before: Date, limit: number): Promise<PendingDelivery[]> {
    const result = await this.pool.query<{ id: string; delivery_run: number }>(
      `SELECT id, delivery_run FROM reports WHERE delivery_state = 'PENDING' AND delivery_updated_at < $1 ORDER BY delivery_updated_at LIMIT $2`,
      [before, limit],
    );
    return result.rows.map((row) => ({ reportId: row.id, run: row.delivery_run }));
  }

  /** Marks a delivery as looked at (by the sweeper, or progressing), so it is not examined again at once. */
  async touchDelivery(id: string): Promise<void> {
    await this.pool.query('UPDATE reports SET delivery_updated_at = now() WHERE id = $1', [id]);
  }

  /** PENDING or PROCESSING -> FAILED with a reason, with its callback event; unchanged when already terminal. */
  async fail(id: string, error: ReportError): Promise<TerminalChange> {
    return this.toTerminal(
      id,
      'report.failed',
      `UPDATE reports SET status = 'FAILED', error_code = $2, error_message = $3, end_time = now(), updated_at = now()
       WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')`,
      [id, error.code, error.message],
    );
  }

  /** PENDING or PROCESSING -> ABORTED, with its callback event; unchanged when already terminal. */
  async abort(id: string): Promise<TerminalChange> {
    return this.toTerminal(
      id,
      'report.aborted',
      `UPDATE reports SET status = 'ABORTED', end_time = now(), updated_at = now()
       WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')`,
      [id],
    );
  }

  /**
   * Applies a terminal transition and, in the same transaction, records the callback event (the outbox):
   * a crash can then neither lose the event nor record it twice (one event per report).
   */
  private async toTerminal(id: string, type: CallbackEventType | undefined, update: string, params: unknown[], deliveryRun = 0): Promise<TerminalChange> {
    return withTransaction(this.pool, async (client) => {
      const updated = await client.query<{ account_id: string; callback_url: string | null }>(
        `${update} RETURNING account_id, request->>'callback_url' AS callback_url`,
        params,
      );
      const row = updated.rows[0];
      if (!row) return { changed: false };
      if (!row.callback_url || !type) return { changed: true };
      const event = await client.query<{ id: string }>(
        `INSERT INTO callback_events (id, report_id, account_id, type, url, delivery_run) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (report_id, type, delivery_run) DO NOTHING RETURNING id`,
        [newEventId(), id, row.account_id, type, row.callback_url, deliveryRun],
      );
      return { changed: true, eventId: event.rows[0]?.id };
    });
  }

  /** SUCCESS -> EXPIRED now (the caller deleted the file, or is about to). */
  async expireNow(id: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE reports SET status = 'EXPIRED', expires_at = LEAST(expires_at, now()), updated_at = now()
       WHERE id = $1 AND status IN ('SUCCESS', 'EXPIRED')`,
      [id],
    );
    return result.rowCount === 1;
  }

  /** Reports whose file is past expires_at and not deleted yet, oldest first. */
  async filesToDelete(now: Date, limit: number): Promise<ReportRecord[]> {
    const result = await this.pool.query<ReportRow>(
      `SELECT ${COLUMNS} FROM reports WHERE file_key IS NOT NULL AND file_deleted_at IS NULL AND expires_at <= $1
       ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return result.rows.map(toRecord);
  }

  /** Records that the file is gone; a SUCCESS report becomes EXPIRED. */
  async markFileDeleted(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE reports SET file_deleted_at = now(), status = CASE WHEN status = 'SUCCESS' THEN 'EXPIRED' ELSE status END, updated_at = now()
       WHERE id = $1`,
      [id],
    );
  }

  /** Reports not terminal and not touched since `before`: candidates for a lost job. */
  async staleOpenReports(before: Date, limit: number): Promise<ReportRecord[]> {
    const result = await this.pool.query<ReportRow>(
      `SELECT ${COLUMNS} FROM reports WHERE status IN ('PENDING', 'PROCESSING') AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
      [before, limit],
    );
    return result.rows.map(toRecord);
  }

  /** Marks a report as looked at (by the sweeper), so it is not examined again at once. */
  async touch(id: string): Promise<void> {
    await this.pool.query('UPDATE reports SET updated_at = now() WHERE id = $1', [id]);
  }
}

