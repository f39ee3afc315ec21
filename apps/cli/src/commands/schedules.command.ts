import { parseArgs } from 'node:util';
import { SchedulesRepository } from '@cdr-reports/db';
import { NotFoundError, toReportResource, toScheduleResource, type ScheduleRecord } from '@cdr-reports/domain';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli schedules create --account ACCOUNT_ID --name NAME (--product PRODUCT | --report JSON)
                      [--cron "0 2 1 * *"] [--timezone ZONE] [--period previous_month|previous_week|previous_day]
                      [--callback-url URL]
    creates a scheduled export: each run creates a report of the previous period in ZONE (default: last month,
    on the 1st at 02:00 UTC). --report is a report request without dates, e.g. '{"product":"SMS","compression":"zip"}'
cli schedules list [--account ACCOUNT_ID]
    lists schedules (of the account and its descendants, or all)
cli schedules pause ID | resume ID | delete ID
    pauses (no runs), resumes (runs from now on, missed periods are not back-filled) or deletes a schedule
cli schedules run ID --period-start YYYY-MM-DD
    creates now the report of the period that contains the date (or prints the one that exists)`;

const present = (schedule: ScheduleRecord) => toScheduleResource(schedule, { self: `/v1/schedules/${schedule.id}`, runs: `/v1/schedules/${schedule.id}/runs` });

export const schedulesCommand: Command = {
  summary: 'create, list, pause, resume, delete and run scheduled exports',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const [action, ...rest] = argv;
    const services = await ctx.services();
    const repository = new SchedulesRepository(await ctx.db());
    // The CLI acts as the operator: for the schedule's own account.
    const owned = async (id: string | undefined) => {
      if (!id) throw new UsageError(`schedules ${action} takes exactly one schedule ID`);
      const schedule = await repository.find(id);
      if (!schedule) throw new NotFoundError(`schedule ${id} not found`);
      return schedule;
    };
    if (action === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: {
          account: { type: 'string' },
          name: { type: 'string' },
          product: { type: 'string' },
          report: { type: 'string' },
          cron: { type: 'string' },
          timezone: { type: 'string' },
          period: { type: 'string' },
          'callback-url': { type: 'string' },
        },
      });
      if (!values.account) throw new UsageError('--account is required');
      if (!values.report && !values.product) throw new UsageError('--product or --report is required');
      let report: unknown;
      try {
        report = values.report ? JSON.parse(values.report) : {};
      } catch {
        throw new UsageError('--report must be a JSON object');
      }
      const body = {
        name: values.name,
        report: values.product ? { ...(report as object), product: values.product } : report,
        ...(values.cron !== undefined && { cron: values.cron }),
        ...(values.timezone !== undefined && { timezone: values.timezone }),
        ...(values.period !== undefined && { period: values.period }),
        ...(values['callback-url'] !== undefined && { callback_url: values['callback-url'] }),
      };
      printJson(present(await services.schedules.create(values.account, body)));
      return 0;
    }
    if (action === 'list') {
      const { values } = parseArgs({ args: rest, options: { account: { type: 'string' } } });
      const schedules = values.account ? await services.schedules.list(values.account) : await repository.listAll();
      printJson(schedules.map(present));
      return 0;
    }
    if (action === 'pause' || action === 'resume' || action === 'delete') {
      const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
      if (positionals.length !== 1) throw new UsageError(`schedules ${action} takes exactly one schedule ID`);
      const schedule = await owned(positionals[0]);
      if (action === 'delete') {
        await services.schedules.delete(schedule.accountId, schedule.id);
        printJson({ ...present(schedule), deleted: true });
      } else {
        printJson(present(await services.schedules.update(schedule.accountId, schedule.id, { paused: action === 'pause' })));
      }
      return 0;
    }
    if (action === 'run') {
      const { values, positionals } = parseArgs({ args: rest, options: { 'period-start': { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) throw new UsageError('schedules run takes exactly one schedule ID');
      if (!values['period-start']) throw new UsageError('--period-start YYYY-MM-DD is required');
      const schedule = await owned(positionals[0]);
      const { report, created } = await services.schedules.runNow(schedule.accountId, schedule.id, { period_start: values['period-start'] });
      printJson({ created, report: toReportResource(report, new Date(), { self: `/v1/reports/${report.id}` }) });
      return 0;
    }
    throw new UsageError(action ? `unknown action "schedules ${action}"` : 'schedules needs an action');
  },
};
