import type { FastifyInstance } from 'fastify';
import type { Metrics, ReadinessReport } from '@cdr-reports/observability';

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
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await options.readiness();
    return reply.code(report.ready ? 200 : 503).header('Cache-Control', 'no-store').send({ status: report.ready ? 'ready' : 'not ready', checks: report.checks });
  });
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.text()));
}
