import { createHash, randomUUID } from 'node:crypto';
import { subtractPeriod, type CalendarPeriod } from '@cdr-reports/config';
import type { AccountsRepository, CallbackAttempt, CallbackEvent, CallbacksRepository, DestinationsRepository, ReportsRepository } from '@cdr-reports/db';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  REPORT_STATUSES,
  ValidationError,
  effectiveStatus,
  parseReportRequest,
  type Manifest,
  type ReportRecord,
  type ReportRequest,
  type ReportStatus,
} from '@cdr-reports/domain';
import type { ReportQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import type { ReportRunner } from '@cdr-reports/report-runner';
import { checkAccountIds } from './account-access';
import { downloadLink, fileLink } from './download-link';
import { callbackUrlRefusal, type AddressPolicy, type ResolveAll } from '@cdr-reports/webhooks';

/** The report is gone for good (expired or aborted): 410. */
export class GoneError extends Error {
  override name = 'GoneError';
}

export interface ReportServiceDependencies {
  reports: ReportsRepository;
  accounts: AccountsRepository;
  /** A report's destination_id must name one the key can read. */
  destinations: DestinationsRepository;
  /** Where a new report's job is enqueued. */
  queue: ReportQueue;
  /** Where a report changes state (DELETE aborts or expires it). */
  runner: ReportRunner;
  /** Which addresses a callback_url may point at (SSRF). */
  callbackPolicy: AddressPolicy;
  /** DNS for the callback_url check. Default: the system resolver. */
  resolve?: ResolveAll;
  /** Presigns download links. */
  links: ObjectStore;
  cdrRetention: CalendarPeriod;
  /** The time zone names the CDR store renders (PostgreSQL's pg_timezone_names). */
  timeZones: ReadonlySet<string>;
  logger: Logger;
  now?: () => Date;
}

export interface ListReportsQuery {
  status?: string;
  created_after?: string;
  created_before?: string;
  limit?: string;
  cursor?: string;
}

/** The report use cases, as the API offers them to a caller acting for `principal`. */
export class ReportService {
  private readonly now: () => Date;

  constructor(private readonly deps: ReportServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Validates, authorizes, records and enqueues a report. With an idempotency key, the same key and body
   * within 24 h return the first report (`created: false`); so does a schedule's run for a period that
   * already has its report.
   */
  async create(
    principal: string,
    body: unknown,
    idempotencyKey?: string,
    schedule?: { id: string; periodStart: string; replaceUnsuccessful?: boolean },
  ): Promise<{ report: ReportRecord; created: boolean }> {
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw new ValidationError([{ name: 'Idempotency-Key', reason: 'must be 1-255 visible ASCII characters' }]);
    }
    const now = this.now();
    const request = parseReportRequest(body, {
      principalAccountId: principal,
      now,
      oldestDateStart: subtractPeriod(now, this.deps.cdrRetention),
      isKnownTimeZone: (zone) => this.deps.timeZones.has(zone),
    });
    if (request.callback_url !== undefined) {
      const refusal = await callbackUrlRefusal(request.callback_url, this.deps.callbackPolicy, this.deps.resolve);
      if (refusal) throw new ValidationError([{ name: 'callback_url', reason: refusal }]);
    }
    if (!(await this.deps.accounts.isSelfOrDescendant(principal, request.account_id))) {
      throw new ForbiddenError(`this API key cannot request reports for account ${request.account_id}`);
    }
    if (request.account_ids) await checkAccountIds(this.deps.accounts, principal, request.account_ids, 'request reports for');
    await this.checkDestination(principal, request);
    const result = await this.deps.reports.create({
      id: randomUUID(),
      requestedBy: principal,
      request,
      idempotency: idempotencyKey === undefined ? undefined : { key: idempotencyKey, requestHash: hashBody(body) },
      schedule,
    });
    if (result.created) {
      try {
        await this.deps.queue.enqueue(result.report.id);
      } catch (error) {
        // The report is recorded; the sweeper enqueues reports whose job is missing once Redis answers again.
        this.deps.logger.warn({ err: error, report_id: result.report.id }, 'could not enqueue the report now; the sweeper will');
      }
    }
    return result;
  }

  /**
   * A destination_id must name a destination of the key's account or one below it (unknown and foreign ids read
   * the same: 400 on the field).
   */
  async checkDestination(principal: string, request: Pick<ReportRequest, 'destination_id'>, field = 'destination_id'): Promise<void> {
    if (request.destination_id === undefined) return;
    const destination = await this.deps.destinations.find(request.destination_id);
    if (!destination || !(await this.deps.accounts.isSelfOrDescendant(principal, destination.accountId))) {
      throw new ValidationError([{ name: field, reason: `no destination ${request.destination_id} that this API key can use (see GET /v1/destinations)` }]);
    }
  }

  /** A report the caller may see (its account's or a descendant's); NotFoundError for any other. */
  async get(principal: string, id: string): Promise<ReportRecord> {
    const report = await this.deps.reports.find(id);
    if (!report || !(await this.deps.accounts.isSelfOrDescendant(principal, report.accountId))) {
      throw new NotFoundError(`report ${id} not found`);
    }
    return report;
  }

  /** The caller's reports and its descendants', newest first, one page at a time. */
  async list(principal: string, query: ListReportsQuery): Promise<{ reports: ReportRecord[]; nextCursor?: string }> {
    const problems = [];
    let status: ReportStatus | undefined;
    if (query.status !== undefined) {
      if ((REPORT_STATUSES as readonly string[]).includes(query.status)) status = query.status as ReportStatus;
      else problems.push({ name: 'status', reason: `must be one of ${REPORT_STATUSES.join(', ')}` });
    }
    const date = (name: 'created_after' | 'created_before') => {
      const value = query[name];
      if (value === undefined) return undefined;
      const parsed = new Date(value);
      if (Number.isNaN(parsed.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
        problems.push({ name, reason: 'must be an RFC 3339 timestamp or a date like 2026-03-01' });
        return undefined;
      }
      return parsed;
    };
    const createdAfter = date('created_after');
    const createdBefore = date('created_before');
    let limit = 20;
    if (query.limit !== undefined) {
      limit = Number(query.limit);
      if (!/^\d+$/.test(query.limit) || limit < 1 || limit > 100) problems.push({ name: 'limit', reason: 'must be a whole number from 1 to 100' });
    }
    const beforeId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !beforeId) problems.push({ name: 'cursor', reason: 'is not a cursor this API issued' });
    if (problems.length > 0) throw new ValidationError(problems);

    const accountIds = (await this.deps.accounts.selfAndDescendants(principal)).map((a) => a.id);
    const reports = await this.deps.reports.list({ accountIds, status, createdAfter, createdBefore, beforeId, limit: limit + 1 });
    const page = reports.slice(0, limit);
    const last = page[page.length - 1];
    return { reports: page, nextCursor: reports.length > limit && last ? encodeCursor(last) : undefined };
  }

  /**
   * DELETE: a PENDING or PROCESSING report is aborted (the worker stops and leaves no file); a finished one
   * has its file deleted now and reads EXPIRED. Repeating it changes nothing.
   */
  async cancel(principal: string, id: string): Promise<ReportRecord> {
    const report = await this.get(principal, id);
    if (report.status === 'PENDING' || report.status === 'PROCESSING') await this.deps.runner.abort(id);
    else await this.deps.runner.expireNow(report);
    return this.get(principal, id);
  }

  /** GET .../files/{n}/download: a link to file n (1-based) of a SUCCESS report, or why there is none. */
  async requireFileLink(principal: string, id: string, n: number): Promise<string> {
    const report = await this.ready(principal, id);
    const count = report.files?.length ?? 0;
    if (!Number.isInteger(n) || n < 1 || n > count) throw new NotFoundError(`report ${id} has ${count} file${count === 1 ? '' : 's'}: no file ${n}`);
    const link = await fileLink(this.deps.links, report, n - 1, this.now());
    if (!link) throw new GoneError(`report ${id} is EXPIRED: its files no longer exist`);
    return link;
  }

  /** GET .../manifest: the manifest written next to the files of a SUCCESS report. */
  async manifest(principal: string, id: string): Promise<Manifest> {
    await this.ready(principal, id);
    const manifest = await this.deps.reports.manifest(id);
    if (!manifest) throw new NotFoundError(`report ${id} has no manifest (it finished before manifests were written)`);
    return manifest;
  }

  /** POST .../redeliver: delivers a SUCCESS report into its destination again while its files are kept. */
  async redeliver(principal: string, id: string): Promise<ReportRecord> {
    const report = await this.ready(principal, id);
    const started = await this.deps.runner.redeliver(report, this.now());
    if (started === 'no-destination') throw new ConflictError(`report ${id} has no destination_id: there is nothing to deliver into`);
    if (started === 'in-progress') throw new ConflictError(`report ${id} is being delivered: redeliver once its delivery is DELIVERED or FAILED`);
    if (started === 'expired') throw new GoneError(`report ${id} is EXPIRED: its files no longer exist`);
    return this.get(principal, id);
  }

  /** A report the caller may see whose files are ready: 409 while not finished or FAILED, 410 once gone. */
  async readyReport(principal: string, id: string): Promise<ReportRecord> {
    return this.ready(principal, id);
  }

  private async ready(principal: string, id: string): Promise<ReportRecord> {
    const report = await this.get(principal, id);
    const status = effectiveStatus(report, this.now());
    if (status === 'EXPIRED' || status === 'ABORTED') throw new GoneError(`report ${id} is ${status}: its files no longer exist`);
    if (status === 'FAILED') throw new ConflictError(`report ${id} FAILED: there are no files (${report.error?.message ?? 'no reason recorded'})`);
    if (status !== 'SUCCESS') throw new ConflictError(`report ${id} is ${status}: the files are not ready yet`);
    return report;
  }

  /** A presigned link valid until expires_at (and at most 7 days), for a SUCCESS report only. */
  async downloadLink(report: ReportRecord): Promise<string | undefined> {
    return downloadLink(this.deps.links, report, this.now());
  }

  /** GET .../download: the link, or why there is none (409 not ready, 410 gone). */
  async requireDownloadLink(principal: string, id: string): Promise<string> {
    const report = await this.get(principal, id);
    const status = effectiveStatus(report, this.now());
    if (status === 'EXPIRED' || status === 'ABORTED') throw new GoneError(`report ${id} is ${status}: its file no longer exists`);
    if (status === 'FAILED') throw new ConflictError(`report ${id} FAILED: there is no file (${report.error?.message ?? 'no reason recorded'})`);
    if (status === 'SUCCESS' && report.files && report.files.length > 1) {
      throw new ConflictError(`report ${id} is split into ${report.files.length} files: download each from /v1/reports/${id}/files/{n}/download (n = 1..${report.files.length})`);
    }
    const link = await this.downloadLink(report);
    if (!link) throw new ConflictError(`report ${id} is ${status}: the file is not ready yet`);
    return link;
  }
}

/** A report's callback event and every attempt to deliver it. */
export interface CallbackLog {
  event: CallbackEvent;
  attempts: CallbackAttempt[];
}

/** The report has no callback event (no callback_url, or not finished yet): 409 for a redelivery. */
export class NoCallbackError extends ConflictError {
  override name = 'NoCallbackError';
}

/** The callback use cases: what was delivered, and delivering again. */
export class CallbackService {
  constructor(
    private readonly reports: ReportService,
    private readonly callbacks: CallbacksRepository,
    private readonly runner: ReportRunner,
  ) {}

  /** The report's callback event and its attempts; undefined when the report has none (yet). */
  async log(principal: string, reportId: string): Promise<CallbackLog | undefined> {
    const report = await this.reports.get(principal, reportId);
    const event = await this.callbacks.findByReport(report.id);
    return event ? { event, attempts: await this.callbacks.attempts(event.id) } : undefined;
  }

  /** Starts a new delivery of the same event (same webhook-id and body). */
  async redeliver(principal: string, reportId: string): Promise<CallbackLog> {
    const report = await this.reports.get(principal, reportId);
    const event = await this.callbacks.findByReport(report.id);
    if (!event) {
      throw new NoCallbackError(
        report.request.callback_url ? `report ${reportId} has not finished: there is no event yet` : `report ${reportId} has no callback_url`,
      );
    }
    if (event.state === 'pending') throw new ConflictError(`the callback of report ${reportId} is being delivered: redeliver once it is delivered or failed`);
    await this.runner.redeliverCallback(event.id);
    return { event: (await this.callbacks.find(event.id))!, attempts: await this.callbacks.attempts(event.id) };
  }
}

/** The same body, whatever its key order, hashes the same. */
function hashBody(body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

// Opaque to callers: the last report of the page. Its stored receive_time (to the microsecond) orders the next page.
function encodeCursor(report: ReportRecord): string {
  return Buffer.from(`r1:${report.id}`).toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  const match = /^r1:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match?.[1];
}
