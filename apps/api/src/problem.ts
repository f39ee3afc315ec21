import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyMismatchError } from '@cdr-reports/db';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type InvalidParam } from '@cdr-reports/domain';
import { GoneError } from '@cdr-reports/reports';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  invalid_params?: InvalidParam[];
}

/** Raised by the API itself for authentication failures (401 with WWW-Authenticate). */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
}

const TYPE_BASE = 'https://cdr-reports.dev/problems/';

function problem(status: number, slug: string, title: string, detail: string, extra: Partial<Problem> = {}): Problem {
  return { type: `${TYPE_BASE}${slug}`, title, status, detail, ...extra };
}

/** The one mapping from domain errors (and Fastify's own) to HTTP responses. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ValidationError) {
    return problem(400, 'validation', 'Invalid request', error.message, { invalid_params: error.invalidParams });
  }
  if (error instanceof UnauthorizedError) return problem(401, 'unauthorized', 'Unauthorized', error.message);
  if (error instanceof ForbiddenError) return problem(403, 'forbidden', 'Forbidden', error.message);
  if (error instanceof NotFoundError) return problem(404, 'not-found', 'Not found', error.message);
  if (error instanceof IdempotencyMismatchError) return problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', error.message);
  if (error instanceof ConflictError) return problem(409, 'conflict', 'Conflict', error.message);
  if (error instanceof GoneError) return problem(410, 'gone', 'Gone', error.message);
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    const invalid = validationProblems(fastifyError.validation, fastifyError.validationContext);
    return problem(400, 'validation', 'Invalid request', invalid.map((p) => `${p.name}: ${p.reason}`).join('; '), { invalid_params: invalid });
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const slugs: Record<number, [string, string]> = {
      400: ['bad-request', 'Bad request'],
      404: ['not-found', 'Not found'],
      405: ['method-not-allowed', 'Method not allowed'],
      413: ['payload-too-large', 'Payload too large'],
      415: ['unsupported-media-type', 'Unsupported media type'],
      429: ['rate-limited', 'Too many requests'],
    };
    const [slug, title] = slugs[status] ?? ['client-error', 'Client error'];
    return problem(status, slug, title, fastifyError.message ?? title);
  }
  return problem(500, 'internal', 'Internal server error', 'The server could not complete the request; it has been logged.');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  const body = toProblem(error);
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ problem: body.type, detail: body.detail }, 'request rejected');
  if (body.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="cdr-reports"');
  return reply.code(body.status).type('application/problem+json').send(body);
}

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * A route schema's errors as invalid_params, in the words the domain uses: one entry per field (a list's
 * items are its field), unknown fields by name, the allowed values of an enumeration spelled out.
 */
export function validationProblems(errors: readonly SchemaError[], context?: string): InvalidParam[] {
  const byName = new Map<string, string>();
  for (const error of errors) {
    const path = error.instancePath.split('/').filter((part) => part !== '' && !/^\d+$/.test(part));
    let name = path.join('.');
    let reason = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      name = [...path, String(error.params.additionalProperty)].join('.');
      reason = 'unknown field';
    } else if (error.keyword === 'required') {
      name = [...path, String(error.params.missingProperty)].join('.');
      reason = 'is required';
    } else if (error.keyword === 'enum') {
      reason = `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    } else if (error.keyword === 'type') {
      reason = `must be ${String(error.params.type).replace(',', ' or ')}`;
    } else if (error.keyword === 'pattern' && name.startsWith('date_')) {
      reason = 'must be an RFC 3339 timestamp with an offset, like 2026-03-01T00:00:00Z';
    } else if (error.keyword === 'anyOf') {
      continue;
    }
    if (name === '') name = context === 'querystring' ? 'query' : 'body';
    if (name === 'body' && error.keyword === 'type') reason = 'must be a JSON object';
    if (!byName.has(name)) byName.set(name, reason);
  }
  return [...byName].map(([name, reason]) => ({ name, reason }));
}
