import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { problems } from '../openapi/schemas';

/** Requests one API key may make per second; 0 turns a limit off. */
export interface RateLimits {
  /** Counters live in Redis, so every API instance shares them. */
  redis: Redis;
  /** Prefix of the counters' keys. */
  keyPrefix: string;
  /** POST /v1/reports: each one starts an export. */
  reportCreationsPerSecond: number;
  /** Every other /v1 request, counted together. */
  requestsPerSecond: number;
}

/** The one route with its own, lower limit. */
const REPORT_CREATION = { method: 'POST', url: '/v1/reports' };

/** A 429 for a key over its limit; problem.ts maps it, with the headers already set. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  readonly statusCode = 429;
}

/**
 * Per-key rate limits on the /v1 routes of the scope it is registered in, after authentication (the counter is
 * the key's id). Fixed one-second windows in Redis (one INCR script per request). Every answer carries
 * X-RateLimit-Limit, -Remaining and -Reset (seconds to the window's end); a 429 also Retry-After. When Redis
 * cannot be reached the request is let through: intake keeps accepting reports while Redis is down.
 */
export async function rateLimitPlugin(app: FastifyInstance, limits: RateLimits): Promise<void> {
  app.addHook('onRoute', (route) => {
    const isReportCreation = [route.method].flat().includes(REPORT_CREATION.method) && route.url === REPORT_CREATION.url;
    const max = isReportCreation ? limits.reportCreationsPerSecond : limits.requestsPerSecond;
    // A route-level limit gets counters of its own; the other routes share the global one.
    if (max === 0) route.config = { ...route.config, rateLimit: false } as typeof route.config;
    else if (isReportCreation) route.config = { ...route.config, rateLimit: { max } } as typeof route.config;
    if (max > 0 && route.schema) route.schema.response = { ...(route.schema.response as object), ...problems(429) };
  });
  await app.register(fastifyRateLimit, {
    global: limits.requestsPerSecond > 0,
    max: Math.max(limits.requestsPerSecond, 1),
    timeWindow: 1_000,
    redis: limits.redis,
    nameSpace: limits.keyPrefix,
    skipOnError: true,
    keyGenerator: (request) => request.principal.keyId,
    errorResponseBuilder: (request, context) =>
      new RateLimitedError(
        `this API key is over its limit of ${context.max} requests per second for ${request.method} ${request.routeOptions.url ?? request.url}; retry in ${context.after}`,
      ),
  });
}
