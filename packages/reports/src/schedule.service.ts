import { randomUUID } from 'node:crypto';
import { subtractPeriod, type CalendarPeriod } from '@cdr-reports/config';
import type { AccountsRepository, ReportsRepository, SchedulesRepository } from '@cdr-reports/db';
import {
  ForbiddenError,
  NotFoundError,
  ValidationError,
  isCalendarDate,
  parseSchedule,
  periodContaining,
  previousPeriod,
  type PeriodBounds,
  type ReportRecord,
  type ScheduleRecord,
} from '@cdr-reports/domain';
import type { ScheduleQueue } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';
import { CronExpressionParser } from 'cron-parser';
import { callbackUrlRefusal, type AddressPolicy, type ResolveAll } from '@cdr-reports/webhooks';
import type { ReportService } from './report.service';
import { checkAccountIds } from './account-access';

/** The most missed periods one catch-up creates for a schedule (the newest ones). */
export const MAX_CATCH_UP_PERIODS = 12;

export interface ScheduleServiceDependencies {
  schedules: SchedulesRepository;
  reports: ReportsRepository;
  reportService: ReportService;
  accounts: AccountsRepository;
  queue: ScheduleQueue;
  callbackPolicy: AddressPolicy;
  resolve?: ResolveAll;
  cdrRetention: CalendarPeriod;
  timeZones: ReadonlySet<string>;
  logger: Logger;
  now?: () => Date;
}

/**
 * Scheduled exports: finance teams get last month's records on the 1st without asking. Each run creates an
 * ordinary report for the previous calendar period in the schedule's time zone, exactly once per schedule
 * and period (a unique index decides), whether it comes from the job scheduler, the catch-up or run-now.
 */
export class ScheduleService {
  private readonly now: () => Date;

  constructor(private readonly deps: ScheduleServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(principal: string, body: unknown): Promise<ScheduleRecord> {
    const settings = parseSchedule(body, this.context(principal));
    await this.checkReportAccount(principal, settings.report.account_id);
    if (settings.report.account_ids) await checkAccountIds(this.deps.accounts, principal, settings.report.account_ids, 'schedule reports for');
    await this.deps.reportService.checkDestination(principal, settings.report, 'report.destination_id');
    await this.checkCallbackUrl(settings.callback_url);
    const schedule = await this.deps.schedules.create(randomUUID(), principal, settings);
    await this.syncJobScheduler(schedule);
    return schedule;
  }

  /** A schedule of the caller's or a descendant's; NotFoundError for any other. */
  async get(principal: string, id: string): Promise<ScheduleRecord> {
    const schedule = await this.deps.schedules.find(id);
    if (!schedule || !(await this.deps.accounts.isSelfOrDescendant(principal, schedule.accountId))) throw new NotFoundError(`schedule ${id} not found`);
    return schedule;
  }

  async list(principal: string): Promise<ScheduleRecord[]> {
    return this.deps.schedules.list((await this.deps.accounts.selfAndDescendants(principal)).map((a) => a.id));
  }

  /** Changes settings; `paused` pauses and resumes. A resumed or re-timed schedule runs from now on, no back-fill. */
  async update(principal: string, id: string, body: unknown): Promise<ScheduleRecord> {
    const current = await this.get(principal, id);
    const settings = parseSchedule(body, this.context(principal), current);
    if (settings.report.account_id !== current.report.account_id) await this.checkReportAccount(principal, settings.report.account_id);
    if (settings.report.account_ids) await checkAccountIds(this.deps.accounts, principal, settings.report.account_ids, 'schedule reports for');
    await this.deps.reportService.checkDestination(principal, settings.report, 'report.destination_id');
    if (settings.callback_url !== current.callback_url) await this.checkCallbackUrl(settings.callback_url);
    const retimed = settings.cron !== current.cron || settings.timezone !== current.timezone || settings.period !== current.period;
    const resumed = current.paused && !settings.paused;
    const updated = await this.deps.schedules.update(id, settings, retimed || resumed);
    if (!updated) throw new NotFoundError(`schedule ${id} not found`);
    await this.syncJobScheduler(updated);
    return updated;
  }

  async delete(principal: string, id: string): Promise<ScheduleRecord> {
    const schedule = await this.get(principal, id);
    await this.deps.schedules.delete(id);
    await this.syncJobScheduler({ ...schedule, paused: true });
    return schedule;
  }

  /** The reports the schedule created, newest period first. */
  async runs(principal: string, id: string, limit = 100): Promise<ReportRecord[]> {
    await this.get(principal, id);
    return this.deps.reports.bySchedule(id, limit);
  }

  /**
   * Run now for the period that contains `period_start` (YYYY-MM-DD): the report of that period, created or
   * the one that exists; a FAILED or ABORTED one is replaced by a new run (it stays among the runs). A
   * period that has not ended yet cannot be reported on whole: 400.
   */
  async runNow(principal: string, id: string, body: unknown): Promise<{ report: ReportRecord; created: boolean }> {
    const schedule = await this.get(principal, id);
    const value = (body as { period_start?: unknown } | null)?.period_start;
    const unknown = body && typeof body === 'object' ? Object.keys(body).filter((key) => key !== 'period_start') : [];
    if (unknown.length > 0) throw new ValidationError(unknown.map((name) => ({ name, reason: 'unknown field' })));
    if (typeof value !== 'string' || !isCalendarDate(value)) {
      throw new ValidationError([{ name: 'period_start', reason: 'is required: a date like 2026-03-01 in the period to report on' }]);
    }
    const bounds = periodContaining(value, schedule.period, schedule.timezone);
    if (Date.parse(bounds.dateEnd) > this.now().getTime()) {
      throw new ValidationError([{ name: 'period_start', reason: `the period ${bounds.startDate} to ${bounds.endDate} has not ended yet in ${schedule.timezone}` }]);
    }
    return this.createRun(schedule, bounds, { replaceUnsuccessful: true });
  }

  /** The job scheduler fired for this schedule: the period of its latest run, and any missed before it. */
  async runScheduled(scheduleId: string): Promise<ReportRecord[]> {
    const schedule = await this.deps.schedules.find(scheduleId);
    if (!schedule || schedule.paused) {
      // Deleted or paused meanwhile (and its scheduler could not be removed then): it goes now.
      await this.deps.queue.remove(scheduleId);
      return [];
    }
    return this.runDue(schedule, this.now());
  }

  /**
   * The catch-up, every minute: for each active schedule, the reports of periods whose run fell while the
   * cluster was down, and its job scheduler if Redis lost it. Returns how many reports it created.
   */
  async catchUp(): Promise<number> {
    let created = 0;
    for (const schedule of await this.deps.schedules.listActive()) {
      try {
        const scheduler = await this.deps.queue.find(schedule.id);
        if (!scheduler || scheduler.pattern !== schedule.cron || scheduler.tz !== schedule.timezone) await this.deps.queue.upsert(schedule);
        created += (await this.runDue(schedule, this.now())).length;
      } catch (error) {
        this.deps.logger.error({ err: error, schedule_id: schedule.id }, 'schedule catch-up failed; it is tried again in a minute');
      }
    }
    return created;
  }

  /**
   * The periods of every run due by `until` since the schedule became active (the newest MAX_CATCH_UP_PERIODS),
   * created where their report is missing; periods past CDR retention are skipped with a warning.
   */
  private async runDue(schedule: ScheduleRecord, until: Date): Promise<ReportRecord[]> {
    const periods = new Map<string, PeriodBounds>();
    const fires = CronExpressionParser.parse(schedule.cron, { tz: schedule.timezone, currentDate: new Date(until.getTime() + 1_000) });
    while (periods.size < MAX_CATCH_UP_PERIODS) {
      const fire = fires.prev().toDate();
      if (fire.getTime() <= schedule.activeSince.getTime()) break;
      const bounds = previousPeriod(fire, schedule.period, schedule.timezone);
      periods.set(bounds.startDate, bounds);
    }
    if (periods.size === 0) return [];
    const existing = await this.deps.schedules.periodsWithReports(schedule.id, [...periods.keys()]);
    const oldest = subtractPeriod(this.now(), this.deps.cdrRetention);
    const created: ReportRecord[] = [];
    for (const bounds of periods.values()) {
      if (existing.has(bounds.startDate)) continue;
      if (Date.parse(bounds.dateStart) < oldest.getTime()) {
        this.deps.logger.warn({ schedule_id: schedule.id, period_start: bounds.startDate }, 'missed period is past CDR retention; not reported');
        continue;
      }
      const run = await this.createRun(schedule, bounds);
      if (run.created) created.push(run.report);
    }
    return created;
  }

  private async createRun(schedule: ScheduleRecord, bounds: PeriodBounds, options: { replaceUnsuccessful?: boolean } = {}): Promise<{ report: ReportRecord; created: boolean }> {
    const { fields, include_message: includeMessage, ...template } = schedule.report;
    // A usage report's fields are its dimensions and metrics: not given again.
    const body = {
      ...template,
      ...(schedule.report.type !== 'usage' && { fields, include_message: includeMessage }),
      date_start: bounds.dateStart,
      date_end: bounds.dateEnd,
      ...(schedule.callback_url !== undefined && { callback_url: schedule.callback_url }),
    };
    const run = await this.deps.reportService.create(schedule.accountId, body, undefined, {
      id: schedule.id,
      periodStart: bounds.startDate,
      replaceUnsuccessful: options.replaceUnsuccessful,
    });
    if (run.created) {
      this.deps.logger.info({ schedule_id: schedule.id, report_id: run.report.id, period_start: bounds.startDate}, 'scheduled report created');
    }
    return run;
  }

  /**
   * The job scheduler follows the schedule. The schedule is saved first: if Redis cannot be reached now, the
   * catch-up (every minute) restores an active schedule's scheduler, and a paused or deleted schedule's
   * scheduler removes itself the next time it fires.
   */
  private async syncJobScheduler(schedule: ScheduleRecord): Promise<void> {
    try {
      if (schedule.paused) await this.deps.queue.remove(schedule.id);
      else await this.deps.queue.upsert(schedule);
    } catch (error) {
      this.deps.logger.warn({ err: error, schedule_id: schedule.id }, 'could not update the job scheduler now; the schedule catch-up will');
    }
  }

  private async checkReportAccount(principal: string, accountId: string): Promise<void> {
    if (!(await this.deps.accounts.isSelfOrDescendant(principal, accountId))) {
      throw new ForbiddenError(`this API key cannot schedule reports for account ${accountId}`);
    }
  }

  private async checkCallbackUrl(url: string | undefined): Promise<void> {
    if (url === undefined) return;
    const refusal = await callbackUrlRefusal(url, this.deps.callbackPolicy, this.deps.resolve);
    if (refusal) throw new ValidationError([{ name: 'callback_url', reason: refusal }]);
  }

  private context(principal: string) {
    const now = this.now();
    return { principalAccountId: principal, now, oldestDateStart: subtractPeriod(now, this.deps.cdrRetention), isKnownTimeZone: (zone: string) => this.deps.timeZones.has(zone) };
  }
}
