import type { FastifyInstance } from 'fastify';
import { toReportResource, type ReportRecord } from '@cdr-reports/domain';
import type { ListReportsQuery, ReportService } from '@cdr-reports/reports';
import { REPORT_BODY_LIMIT, filesExample, filesSchema, idParams, json, listReportsQuery, manifestExample, manifestSchema, problems, reportExample, reportRequestSchema, reportSchema } from '../openapi/schemas';

const tags = ['reports'];

const selfHref = (id: string) => `/v1/reports/${id}`;

/** The report endpoints: thin over ReportService; problems are mapped in one place (problem.ts). */
export async function reportsRoutes(app: FastifyInstance, options: { service: ReportService }): Promise<void> {
  const { service } = options;
  const present = async (report: ReportRecord) =>
    toReportResource(report, new Date(), { self: selfHref(report.id), download: await service.downloadLink(report) });

  app.post(
    '/v1/reports',
    {
      bodyLimit: REPORT_BODY_LIMIT,
      schema: {
        summary: 'Ask for a report',
        description: 'Validated, recorded and queued: 202 with the report resource (200 with the first report for a repeated Idempotency-Key).',
        tags,
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
        body: reportRequestSchema,
        response: {
          202: json('Accepted: the report resource, PENDING', reportSchema, { ...reportExample, request_status: 'PENDING', items_count: null, summary: undefined, file: undefined, _links: { self: reportExample._links.self } }),
          200: json('The report a previous request with the same Idempotency-Key created', reportSchema, reportExample),
          ...problems(400, 401, 403, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
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
    },
  );

  app.get<{ Querystring: ListReportsQuery }>(
    '/v1/reports',
    {
      schema: {
        summary: "List the caller's (and descendants') reports, newest first",
        tags,
        querystring: listReportsQuery,
        response: { 200: json('A page of reports', { type: 'object', properties: { items: { type: 'array', items: reportSchema } } }, { items: [reportExample], _links: { self: { href: '/v1/reports' } } }), ...problems(400, 401) },
      },
    },
    async (request) => {
    const { reports, nextCursor } = await service.list(request.principal.accountId, request.query);
    const links: Record<string, { href: string }> = { self: { href: request.url } };
    if (nextCursor) {
      const next = new URLSearchParams({ ...(request.query as Record<string, string>), cursor: nextCursor });
      links.next = { href: `/v1/reports?${next.toString()}` };
    }
    return { items: await Promise.all(reports.map(present)), _links: links };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/reports/:id',
    { schema: { summary: 'A report', tags, params: idParams, response: { 200: json('The report resource', reportSchema, reportExample), ...problems(401, 404) } } },
    async (request) => present(await service.get(request.principal.accountId, request.params.id)),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/reports/:id',
    {
      schema: {
        summary: 'Abort a running report, or delete a finished one’s file',
        tags,
        params: idParams,
        response: { 200: json('The report, ABORTED or EXPIRED', reportSchema, { ...reportExample, request_status: 'EXPIRED', _links: { self: reportExample._links.self } }), ...problems(401, 404) },
      },
    },
    async (request) => present(await service.cancel(request.principal.accountId, request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/reports/:id/download',
    {
      schema: {
        summary: 'Download the file: 302 to a presigned link',
        tags,
        params: idParams,
        response: { 302: { description: 'Location: the presigned link, valid until expires_at', type: 'null' }, ...problems(401, 404, 409, 410) },
      },
    },
    async (request, reply) => {
    const link = await service.requireDownloadLink(request.principal.accountId, request.params.id);
    return reply.code(302).header('Location', link).header('Cache-Control', 'no-store').send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/reports/:id/files',
    {
      schema: {
        summary: "The report's files, in order, each with its download link",
        tags,
        params: idParams,
        response: { 200: json('The files', filesSchema, filesExample), ...problems(401, 404, 409, 410) },
      },
    },
    async (request) => {
    const report = await service.readyReport(request.principal.accountId, request.params.id);
    return {
      items: (report.files ?? []).map((file, index) => ({
        n: index + 1,
        name: file.name,
        rows: file.rows,
        size_bytes: file.size_bytes,
        sha256: file.sha256,
        content_type: file.content_type,
        _links: { download: { href: `${selfHref(report.id)}/files/${index + 1}/download` } },
      })),
      _links: { self: { href: `${selfHref(report.id)}/files` }, manifest: { href: `${selfHref(report.id)}/manifest` } },
    };
    },
  );

  app.get<{ Params: { id: string; n: string } }>(
    '/v1/reports/:id/files/:n/download',
    {
      schema: {
        summary: 'Download file n (1-based): 302 to a presigned link',
        tags,
        params: { type: 'object', properties: { id: { type: 'string' }, n: { type: 'string', pattern: '^[0-9]{1,6}$' } }, required: ['id', 'n'] },
        response: { 302: { description: 'Location: the presigned link, valid until expires_at', type: 'null' }, ...problems(400, 401, 404, 409, 410) },
      },
    },
    async (request, reply) => {
    const link = await service.requireFileLink(request.principal.accountId, request.params.id, Number(request.params.n));
    return reply.code(302).header('Location', link).header('Cache-Control', 'no-store').send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/reports/:id/manifest',
    {
      schema: {
        summary: 'The manifest written next to the files once all of them were stored',
        tags,
        params: idParams,
        response: { 200: json('The manifest', manifestSchema, manifestExample), ...problems(401, 404, 409, 410) },
      },
    },
    async (request) => service.manifest(request.principal.accountId, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/reports/:id/redeliver',
    {
      schema: {
        summary: 'Deliver the files into the destination again (while they are kept)',
        tags,
        params: idParams,
        response: { 202: json('A new delivery started: the report, its delivery PENDING', reportSchema, reportExample), ...problems(401, 404, 409, 410) },
      },
    },
    async (request, reply) => reply.code(202).send(await present(await service.redeliver(request.principal.accountId, request.params.id))),
  );
}
