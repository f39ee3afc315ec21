import type { FastifyInstance } from 'fastify';
import { toReportResource, type ReportRecord } from '@cdr-reports/domain';
import type { ListReportsQuery, ReportService } from '@cdr-reports/reports';

const selfHref = (id: string) => `/v1/reports/${id}`;

/** The report endpoints: thin over ReportService; problems are mapped in one place (problem.ts). */
export async function reportsRoutes(app: FastifyInstance, options: { service: ReportService }): Promise<void> {
  const { service } = options;
  const present = async (report: ReportRecord) =>
    toReportResource(report, new Date(), { self: selfHref(report.id), download: await service.downloadLink(report) });

  app.post('/v1/reports', async (request, reply) => {
    const idempotencyKey = request.headers['idempotency-key'];
    const { report, created } = await service.create(
      request.principal.accountId,
      request.body,
      Array.isArray(idempotencyKey) ? idempotencyKey.join(',') : idempotencyKey,
    );
    return reply
      .code(created ? 202 : 200)
      .header('Location', selfHref(report.id))
      .send(await present(report));
  });

  app.get<{ Querystring: ListReportsQuery }>('/v1/reports', async (request) => {
    const { reports, nextCursor } = await service.list(request.principal.accountId, request.query);
    const links: Record<string, { href: string }> = { self: { href: request.url } };
    if (nextCursor) {
      const next = new URLSearchParams({ ...(request.query as Record<string, string>), cursor: nextCursor });
      links.next = { href: `/v1/reports?${next.toString()}` };
    }
    return { items: await Promise.all(reports.map(present)), _links: links };
  });

  app.get<{ Params: { id: string } }>('/v1/reports/:id', async (request) =>
    present(await service.get(request.principal.accountId, request.params.id)),
  );

  app.delete<{ Params: { id: string } }>('/v1/reports/:id', async (request) =>
    present(await service.cancel(request.principal.accountId, request.params.id)),
  );

  app.get<{ Params: { id: string } }>('/v1/reports/:id/download', async (request, reply) => {
    const link = await service.requireDownloadLink(request.principal.accountId, request.params.id);
    return reply.code(302).header('Location', link).header('Cache-Control', 'no-store').send();
  });
}
