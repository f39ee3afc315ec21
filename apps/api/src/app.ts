import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { PROJECT_VERSION } from '@cdr-reports/config';
import type { AccountsRepository, ApiKeysRepository } from '@cdr-reports/db';
import type { CallbackService, DestinationService, RecordsService, ReportService, ScheduleService } from '@cdr-reports/reports';
import type { Logger } from '@cdr-reports/logging';
import type { Queue } from 'bullmq';
import type { Metrics, ReadinessReport } from '@cdr-reports/observability';
import { registerOpenApi } from './openapi/openapi';
import { authenticate } from './plugins/authenticate';
import { rateLimitPlugin, type RateLimits } from './plugins/rate-limit';
import { adminRoutes } from './routes/admin.routes';
import { sendProblem } from './problem';
import { accountsRoutes } from './routes/accounts.routes';
import { healthRoutes } from './routes/health.routes';
import { callbacksRoutes } from './routes/callbacks.routes';
import { destinationsRoutes } from './routes/destinations.routes';
import { recordsRoutes } from './routes/records.routes';
import { reportsRoutes } from './routes/reports.routes';
import { schedulesRoutes } from './routes/schedules.routes';

/** What the API needs from the outside world; main.ts builds the real ones, tests build them on test services. */
export interface ApiDependencies {
  logger: Logger;
  accounts: AccountsRepository;
  keys: ApiKeysRepository;
  reports: ReportService;
  callbacks: CallbackService;
  records: RecordsService;
  schedules: ScheduleService;
  destinations: DestinationService;
  metrics: Metrics;
  /** PostgreSQL, Redis and S3 reachable (GET /readyz). */
  readiness: () => Promise<ReadinessReport>;
  /** Per-key request limits, counted in Redis. */
  rateLimits: RateLimits;
  /** The queue dashboard at /admin/queues: its queues and the token that opens it (none: no dashboard). */
  admin?: { token: string; queues: Queue[] };
}

export interface RegisteredRoute {
  method: string;
  url: string;
}
const ROUTES = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route the API serves (what the OpenAPI document must describe). */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return [...(ROUTES.get(app) ?? [])];
}

/** Builds the HTTP API without listening, so tests can drive it with inject() or a real socket. */
export async function buildApi(deps: ApiDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Request bodies are small JSON documents; anything larger is a mistake or an attack.
    bodyLimit: 64 * 1024,
    // One access-log line per request (below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // The route schemas validate requests as they are written: every problem at once, nothing coerced,
    // removed or defaulted (an unknown field is an error, not something to drop).
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false } },
  });
  // Responses are written as built: the response schemas document them (OpenAPI), they do not filter them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  ROUTES.set(app, routes);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, url: request.routeOptions.url ?? request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  // JSON only: a text/plain body is a 415 like any other type, not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, error));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, Object.assign(new Error(`no route for ${request.method} ${request.url}`), { statusCode: 404 })),
  );

  await registerOpenApi(app, PROJECT_VERSION);
  await app.register(healthRoutes, { metrics: deps.metrics, readiness: deps.readiness });
  if (deps.admin) await app.register(adminRoutes, deps.admin);
  await app.register(async (v1) => {
    v1.decorateRequest('principal', null as never);
    // Before the body is parsed and validated: without a valid key a request learns nothing, not even a 400.
    v1.addHook('onRequest', authenticate(deps.keys));
    // Then the key's rate limit, still before the body is read.
    await rateLimitPlugin(v1, deps.rateLimits);
    await v1.register(accountsRoutes, { accounts: deps.accounts });
    await v1.register(reportsRoutes, { service: deps.reports });
    await v1.register(callbacksRoutes, { callbacks: deps.callbacks, accounts: deps.accounts });
    await v1.register(recordsRoutes, { records: deps.records });
    await v1.register(schedulesRoutes, { schedules: deps.schedules, reports: deps.reports });
    await v1.register(destinationsRoutes, { destinations: deps.destinations });
  });
  return app;
}
