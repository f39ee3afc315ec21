/**
 * Validation of a schedule (POST /v1/schedules, and the fields PATCH may change), as a pure function: every
 * problem named by field, nested report fields as `report.<name>`.
 */
import { CronExpressionParser } from 'cron-parser';
import { ValidationError, type InvalidParam } from './errors';
import { parseReportRequest, isTimeZone, type ReportRequestContext } from './report-request.validate';
import type { ReportRequest } from './report.types';
import { SCHEDULE_PERIODS, type SchedulePeriod } from './schedule-period';

export const DEFAULT_SCHEDULE_CRON = '0 2 1 * *';

/** A schedule's settings after validation. */
export interface ScheduleSettings {
  name: string;
  cron: string;
  timezone: string;
  period: SchedulePeriod;
  /** The report each run creates, without its dates (the run's period gives them). */
  report: Omit<ReportRequest, 'date_start' | 'date_end'>;
  callback_url?: string;
  paused: boolean;
}

/** A schedule as stored. */
export interface ScheduleRecord extends ScheduleSettings {
  id: string;
  accountId: string;
  activeSince: Date;
  createdAt: Date;
  updatedAt: Date;
}

const FIELDS = new Set(['name', 'cron', 'timezone', 'period', 'report', 'callback_url', 'paused']);

/** True when `cron` is a 5-field (or 6-field, with seconds) cron pattern that fires at all. */
export function cronProblem(cron: string, timezone: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) return 'must be a cron pattern of 5 fields (minute hour day month weekday), like 0 2 1 * *';
  try {
    CronExpressionParser.parse(cron, { tz: timezone }).next();
    return undefined;
  } catch (error) {
    return `is not a valid cron pattern: ${(error as Error).message}`;
  }
}

/**
 * Validates a new schedule, or with `current` the changes of a PATCH applied to it. The nested report is
 * checked as a report request would be, with the dates of a period that just ended.
 */
export function parseSchedule(body: unknown, context: ReportRequestContext, current?: ScheduleSettings): ScheduleSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ name: 'body', reason: 'must be a JSON object' }]);
  }
  const input = body as Record<string, unknown>;
  const problems: InvalidParam[] = [];
  const bad = (name: string, reason: string) => problems.push({ name, reason });
  for (const key of Object.keys(input)) if (!FIELDS.has(key)) bad(key, 'unknown field');
  const given = (name: string) => input[name] !== undefined && input[name] !== null;

  let name = current?.name;
  if (given('name')) {
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) bad('name', 'must be a string of 1 to 200 characters');
    else name = input.name.trim();
  } else if (!current) bad('name', 'is required');

  let timezone = current?.timezone ?? 'UTC';
  if (given('timezone')) {
    const zone = input.timezone;
    const known = context.isKnownTimeZone ?? isTimeZone;
    if (typeof zone !== 'string' || !isTimeZone(zone) || !known(zone)) bad('timezone', 'must be an IANA time zone like UTC or Europe/Paris');
    else timezone = zone;
  }

  let cron = current?.cron ?? DEFAULT_SCHEDULE_CRON;
  if (given('cron')) {
    if (typeof input.cron !== 'string') bad('cron', 'must be a string like 0 2 1 * *');
    else {
      const problem = cronProblem(input.cron, timezone);
      if (problem) bad('cron', problem);
      else cron = input.cron.trim().replace(/\s+/g, ' ');
    }
  }

  let period: SchedulePeriod = current?.period ?? 'previous_month';
  if (given('period')) {
    if (typeof input.period !== 'string' || !(SCHEDULE_PERIODS as readonly string[]).includes(input.period)) {
      bad('period', `must be one of ${SCHEDULE_PERIODS.join(', ')}`);
    } else period = input.period as SchedulePeriod;
  }

  let paused = current?.paused ?? false;
  if (given('paused')) {
    if (typeof input.paused !== 'boolean') bad('paused', 'must be true or false');
    else paused = input.paused;
  }

  let callbackUrl = current?.callback_url;
  if (input.callback_url === null) callbackUrl = undefined;
  else if (given('callback_url')) {
    const value = input.callback_url;
    let url: URL | undefined;
    if (typeof value === 'string' && value.length <= 2048) {
      try {
        url = new URL(value);
      } catch {
        // reported below
      }
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) bad('callback_url', 'must be an absolute http(s) URL');
    else callbackUrl = value as string;
  }

  let report = current?.report;
  if (given('report')) {
    const template = input.report;
    if (typeof template !== 'object' || template === null || Array.isArray(template)) bad('report', 'must be a report request (an object) without date_start and date_end');
    else {
      const fields = template as Record<string, unknown>;
      if (fields.date_start !== undefined) bad('report.date_start', "a schedule's reports take their dates from the period of each run");
      if (fields.date_end !== undefined) bad('report.date_end', "a schedule's reports take their dates from the period of each run");
      // Dates of a period that just ended, only to validate the rest.
      const end = new Date(Math.floor(context.now.getTime() / 86_400_000) * 86_400_000);
      const start = new Date(end.getTime() - 86_400_000);
      try {
        const parsed = parseReportRequest(
          { ...fields, date_start: start.toISOString(), date_end: end.toISOString() },
          { ...context, oldestDateStart: new Date(0) },
        );
        const { date_start: _start, date_end: _end, ...rest } = parsed;
        report = rest;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        for (const problem of error.invalidParams) bad(`report.${problem.name}`, problem.reason);
      }
    }
  } else if (!current) bad('report', 'is required: the report each run creates (product, filters, fields...), without dates');

  if (problems.length > 0) throw new ValidationError(problems);
  return { name: name!, cron, timezone, period, report: report!, ...(callbackUrl !== undefined && { callback_url: callbackUrl }), paused };
}

/** The schedule resource, as the API answers it. */
export function toScheduleResource(schedule: ScheduleRecord, links: { self: string; runs: string }): Record<string, unknown> {
  return {
    id: schedule.id,
    name: schedule.name,
    account_id: schedule.accountId,
    cron: schedule.cron,
    timezone: schedule.timezone,
    period: schedule.period,
    report: schedule.report,
    callback_url: schedule.callback_url ?? null,
    paused: schedule.paused,
    created_at: schedule.createdAt.toISOString(),
    updated_at: schedule.updatedAt.toISOString(),
    _links: { self: { href: links.self }, runs: { href: links.runs } },
  };
}
