import type { FastifyInstance } from 'fastify';
import { writeToString } from 'fast-csv';
import type { QueryParams, RecordsService } from '@cdr-reports/reports';
import { json, problems, recordsExample, recordsQuery, usageExample, usageQuery } from '../openapi/schemas';

/** The URL of the same request with `changes` applied to its query string. */
function withQuery(path: string, query: QueryParams, changes: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || name in changes) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, item);
  }
  for (const [name, value] of Object.entries(changes)) params.append(name, value);
  return `${path}?${params.toString()}`;
}

/**
 * The synchronous reads: GET /v1/records (a page of records, or records by id) and GET /v1/usage (usage totals
 * by dimension, JSON or CSV). Thin over RecordsService; problems are mapped in one place (problem.ts).
 */
export async function recordsRoutes(app: FastifyInstance, options: { records: RecordsService }): Promise<void> {
  const { records } = options;

  app.get<{ Querystring: QueryParams }>(
    '/v1/records',
    {
      schema: {
        summary: 'Records right now: a page after the cursor, or up to 20 by id',
        tags: ['records'],
        querystring: recordsQuery,
        response: { 200: json('A page of records (TRUNCATED while more follow), or the records found by id with ids_not_found', { type: 'object', properties: { request_status: { type: 'string', enum: ['SUCCESS', 'TRUNCATED'] }, items_count: { type: 'integer' }, records: { type: 'array' } }, required: ['request_status', 'items_count', 'records'] }, recordsExample), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
    const query = request.query;
    if (query.id !== undefined) {
      const found = await records.recordsById(request.principal.accountId, query);
      return {
        request_status: 'SUCCESS',
        items_count: found.records.length,
        records: found.records,
        ids_not_found: found.idsNotFound,
        _links: { self: { href: request.url } },
      };
    }
    const page = await records.records(request.principal.accountId, query);
    const links: Record<string, { href: string }> = { self: { href: request.url } };
    if (page.truncated && page.cursor) links.next = { href: withQuery('/v1/records', query, { cursor: page.cursor }) };
    return {
      request_status: page.truncated ? 'TRUNCATED' : 'SUCCESS',
      items_count: page.records.length,
      records: page.records,
      cursor: page.cursor ?? null,
      _links: links,
    };
    },
  );

  app.get<{ Querystring: QueryParams }>(
    '/v1/usage',
    {
      schema: {
        summary: 'Usage totals by dimension, paged (JSON, or CSV with format=csv)',
        tags: ['records'],
        querystring: usageQuery,
        response: { 200: json('A page of groups', { type: 'object', properties: { data: { type: 'array' }, meta: { type: 'object' } }, required: ['data', 'meta'] }, usageExample), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
    const page = await records.usage(request.principal.accountId, request.query);
    const meta = { page_number: page.pageNumber, page_size: page.pageSize, total_pages: page.totalPages, total_results: page.totalResults };
    if (page.format === 'csv') {
      const csv = await writeToString(
        page.rows.map((row) => page.columns.map((name) => row[name] ?? '')),
        { headers: page.columns, includeEndRowDelimiter: true, alwaysWriteHeaders: true },
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('X-Page-Number', meta.page_number)
        .header('X-Page-Size', meta.page_size)
        .header('X-Total-Pages', meta.total_pages)
        .header('X-Total-Results', meta.total_results)
        .send(csv);
    }
    const links: Record<string, { href: string }> = { self: { href: request.url } };
    if (page.pageNumber < page.totalPages) links.next = { href: withQuery('/v1/usage', request.query, { 'page[number]': String(page.pageNumber + 1) }) };
    return { data: page.rows, meta, _links: links };
    },
  );
}
