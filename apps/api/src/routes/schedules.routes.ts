import type { FastifyInstance } from 'fastify';
import { toReportResource, toScheduleResource, type ReportRecord, type ScheduleRecord } from '@cdr-reports/domain';
import type { ReportService, ScheduleService } from '@cdr-reports/reports';

const selfHref = (id: string) => `/v1/schedules/${id}`;

/** The scheduled-export endpoints: thin over ScheduleService; problems are mapped in one place (problem.ts). */
export async function schedulesRoutes(app: FastifyInstance, options: { schedules: ScheduleService; reports: ReportService }): Promise<void> {
  const { schedules, reports } = options;
  const present = (schedule: ScheduleRecord) => toScheduleResource(schedule, { self: selfHref(schedule.id), runs: `${selfHref(schedule.id)}/runs` });
  const presentReport = async (report: ReportRecord) =>
    toReportResource(report, new Date(), { self: `/v1/reports/${report.id}`, download: await reports.downloadLink(report) });

  app.post('/v1/schedules', async (request, reply) => {
    const schedule = await schedules.create(request.principal.accountId, request.body);
    return reply.code(201).header('Location', selfHref(schedule.id)).send(present(schedule));
  });

  app.get('/v1/schedules', async (request) => ({
    items: (await schedules.list(request.principal.accountId)).map(present),
    _links: { self: { href: request.url } },
  }));

  app.get<{ Params: { id: string } }>('/v1/schedules/:id', async (request) => present(await schedules.get(request.principal.accountId, request.params.id)));

  app.patch<{ Params: { id: string } }>('/v1/schedules/:id', async (request) =>
    present(await schedules.update(request.principal.accountId, request.params.id, request.body ?? {})),
  );

  app.delete<{ Params: { id: string } }>('/v1/schedules/:id', async (request, reply) => {
    await schedules.delete(request.principal.accountId, request.params.id);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v1/schedules/:id/runs', async (request) => ({
    items: await Promise.all((await schedules.runs(request.principal.accountId, request.params.id)).map(presentReport)),
    _links: { self: { href: request.url }, schedule: { href: selfHref(request.params.id) } },
  }));

  app.post<{ Params: { id: string } }>('/v1/schedules/:id/run', async (request, reply) => {
    const { report, created } = await schedules.runNow(request.principal.accountId, request.params.id, request.body ?? {});
    return reply
      .code(created ? 202 : 200)
      .header('Location', `/v1/reports/${report.id}`)
      .send(await presentReport(report));
  });
}
