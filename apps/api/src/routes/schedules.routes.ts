import type { FastifyInstance } from 'fastify';
import { toReportResource, toScheduleResource, type ReportRecord, type ScheduleRecord } from '@cdr-reports/domain';
import type { ReportService, ScheduleService } from '@cdr-reports/reports';
import { REPORT_BODY_LIMIT, idParams, json, problems, reportExample, reportSchema, runNowSchema, scheduleCreateSchema, scheduleExample, schedulePatchSchema, scheduleSchema } from '../openapi/schemas';

const tags = ['schedules'];
const listSchema = { type: 'object', properties: { items: { type: 'array', items: scheduleSchema } }, required: ['items'] };

const selfHref = (id: string) => `/v1/schedules/${id}`;

/** The scheduled-export endpoints: thin over ScheduleService; problems are mapped in one place (problem.ts). */
export async function schedulesRoutes(app: FastifyInstance, options: { schedules: ScheduleService; reports: ReportService }): Promise<void> {
  const { schedules, reports } = options;
  const present = (schedule: ScheduleRecord) => toScheduleResource(schedule, { self: selfHref(schedule.id), runs: `${selfHref(schedule.id)}/runs` });
  const presentReport = async (report: ReportRecord) =>
    toReportResource(report, new Date(), { self: `/v1/reports/${report.id}`, download: await reports.downloadLink(report) });

  app.post(
    '/v1/schedules',
    { bodyLimit: REPORT_BODY_LIMIT, schema: { summary: 'Create a scheduled export', tags, body: scheduleCreateSchema, response: { 201: json('The schedule, with its id', scheduleSchema, scheduleExample), ...problems(400, 401, 403, 413, 415) } } },
    async (request, reply) => {
    const schedule = await schedules.create(request.principal.accountId, request.body);
    return reply.code(201).header('Location', selfHref(schedule.id)).send(present(schedule));
    },
  );

  app.get(
    '/v1/schedules',
    { schema: { summary: "The caller's (and descendants') schedules", tags, response: { 200: json('The schedules', listSchema, { items: [scheduleExample] }), ...problems(401) } } },
    async (request) => ({
      items: (await schedules.list(request.principal.accountId)).map(present),
      _links: { self: { href: request.url } },
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/schedules/:id',
    { schema: { summary: 'A schedule', tags, params: idParams, response: { 200: json('The schedule', scheduleSchema, scheduleExample), ...problems(401, 404) } } },
    async (request) => present(await schedules.get(request.principal.accountId, request.params.id)),
  );

  app.patch<{ Params: { id: string } }>(
    '/v1/schedules/:id',
    {
      bodyLimit: REPORT_BODY_LIMIT,
      schema: {
        summary: 'Change a schedule; paused pauses and resumes it',
        tags,
        params: idParams,
        body: schedulePatchSchema,
        response: { 200: json('The schedule as changed', scheduleSchema, { ...scheduleExample, paused: true }), ...problems(400, 401, 403, 404, 415) },
      },
    },
    async (request) => present(await schedules.update(request.principal.accountId, request.params.id, request.body ?? {})),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/schedules/:id',
    { schema: { summary: 'Delete a schedule (its reports stay)', tags, params: idParams, response: { 204: { description: 'Deleted', type: 'null' }, ...problems(401, 404) } } },
    async (request, reply) => {
      await schedules.delete(request.principal.accountId, request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/schedules/:id/runs',
    {
      schema: {
        summary: 'The reports the schedule created, newest period first',
        tags,
        params: idParams,
        response: { 200: json('Its reports', { type: 'object', properties: { items: { type: 'array', items: reportSchema } }, required: ['items'] }, { items: [{ ...reportExample, schedule_id: scheduleExample.id }] }), ...problems(401, 404) },
      },
    },
    async (request) => ({
      items: await Promise.all((await schedules.runs(request.principal.accountId, request.params.id)).map(presentReport)),
      _links: { self: { href: request.url }, schedule: { href: selfHref(request.params.id) } },
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/schedules/:id/run',
    {
      schema: {
        summary: 'Run now for the period containing a date',
        tags,
        params: idParams,
        body: runNowSchema,
        response: {
          202: json('The report of that period, created now', reportSchema, { ...reportExample, request_status: 'PENDING', schedule_id: scheduleExample.id, _links: { self: reportExample._links.self } }),
          200: json('The report of that period, which already existed', reportSchema, { ...reportExample, schedule_id: scheduleExample.id }),
          ...problems(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
    const { report, created } = await schedules.runNow(request.principal.accountId, request.params.id, request.body ?? {});
    return reply
      .code(created ? 202 : 200)
      .header('Location', `/v1/reports/${report.id}`)
      .send(await presentReport(report));
    },
  );
}
