import type { FastifyInstance } from 'fastify';
import type { Metrics, ReadinessReport } from '@cdr-reports/observability';
import { json } from '../openapi/schemas';

const tags = ['operations'];
const readySchema = { type: 'object', properties: { status: { type: 'string', enum: ['ready', 'not ready'] }, checks: { type: 'object', additionalProperties: { type: 'string' } } }, required: ['status', 'checks'] };

export interface OperationsOptions {
  metrics: Metrics;
  /** PostgreSQL, Redis and S3 reachable. */
  readiness: () => Promise<ReadinessReport>;
}

/**
 * Operations endpoints, without authentication: /healthz (liveness, touching no dependency), /readyz (every
 * dependency answers: 200, or 503 with what failed) and /metrics (Prometheus).
 */
export async function healthRoutes(app: FastifyInstance, options: OperationsOptions): Promise<void> {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags, security: [], response: { 200: json('The process answers', { type: 'object', properties: { status: { type: 'string' } } }, { status: 'ok' }) } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: PostgreSQL, Redis and S3 answer',
        tags,
        security: [],
        response: {
          200: json('Ready', readySchema, { status: 'ready', checks: { postgres: 'ok', redis: 'ok', s3: 'ok' } }),
          503: json('Not ready: what failed', readySchema, { status: 'not ready', checks: { postgres: 'ok', redis: 'ok', s3: 'connect ECONNREFUSED 10.0.0.5:9000' } }),
        },
      },
    },
    async (_request, reply) => {
    const report = await options.readiness();
    return reply.code(report.ready ? 200 : 503).header('Cache-Control', 'no-store').send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
    },
  );
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics',
        tags,
        security: [],
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string', examples: ['cdr_reports_http_request_duration_seconds_count{app="api",method="GET",route="/v1/reports",status_code="200"} 12'] } } } } },
      },
    },
    async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.text()),
  );
}
