import type { FastifyInstance } from 'fastify';

/** Liveness: answers as soon as the HTTP server is up, touching no dependency. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
}
