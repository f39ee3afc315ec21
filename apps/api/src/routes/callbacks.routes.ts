import type { FastifyInstance } from 'fastify';
import type { AccountsRepository } from '@cdr-reports/db';
import { NotFoundError } from '@cdr-reports/domain';
import type { CallbackLog, CallbackService } from '@cdr-reports/reports';
import { idParams, json, problems } from '../openapi/schemas';

const tags = ['callbacks'];
const logExample = {
  event_id: 'msg_2Xn0vR3kq8yLw5tZ1bC7dE9f',
  type: 'report.completed',
  url: 'https://billing.example.com/cdr-ready',
  state: 'delivered',
  created_at: '2026-04-01T06:00:40.000Z',
  delivered_at: '2026-04-01T06:00:40.120Z',
  attempts: [{ attempt: 1, time: '2026-04-01T06:00:40.050Z', status_code: 200, duration_ms: 70, error: null }],
  _links: { self: { href: '/v1/reports/6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f/callbacks' } },
};
const logSchema = { type: 'object', properties: { event_id: { type: 'string' }, state: { type: 'string', enum: ['pending', 'delivered', 'failed'] }, attempts: { type: 'array' } }, required: ['event_id', 'state', 'attempts'] };

const toResource = (reportId: string, log: CallbackLog) => ({
  event_id: log.event.id,
  type: log.event.type,
  url: log.event.url,
  state: log.event.state,
  created_at: log.event.createdAt.toISOString(),
  delivered_at: log.event.deliveredAt?.toISOString() ?? null,
  attempts: log.attempts.map((a) => ({
    attempt: a.attempt,
    time: a.attemptedAt.toISOString(),
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    error: a.error,
  })),
  _links: {
    self: { href: `/v1/reports/${reportId}/callbacks` },
    redeliver: { href: `/v1/reports/${reportId}/callbacks/redeliver` },
    report: { href: `/v1/reports/${reportId}` },
  },
});

/** What happened to a report's callback, delivering it again, and rotating the signing secret. */
export async function callbacksRoutes(app: FastifyInstance, options: { callbacks: CallbackService; accounts: AccountsRepository }): Promise<void> {
  const { callbacks, accounts } = options;

  app.get<{ Params: { id: string } }>(
    '/v1/reports/:id/callbacks',
    { schema: { summary: "The report's callback event and every attempt", tags, params: idParams, response: { 200: json('The callback log', logSchema, logExample), ...problems(401, 404) } } },
    async (request) => {
    const log = await callbacks.log(request.principal.accountId, request.params.id);
    if (!log) throw new NotFoundError(`report ${request.params.id} has no callback event: it has no callback_url or has not finished`);
    return toResource(request.params.id, log);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/reports/:id/callbacks/redeliver',
    { schema: { summary: 'Deliver the same event again', tags, params: idParams, response: { 202: json('A new delivery started', logSchema, { ...logExample, state: 'pending' }), ...problems(401, 404, 409) } } },
    async (request, reply) => {
    const log = await callbacks.redeliver(request.principal.accountId, request.params.id);
    return reply.code(202).send(toResource(request.params.id, log));
    },
  );

  app.post(
    '/v1/webhook-secret/rotate',
    {
      schema: {
        summary: 'A new signing secret; the old one still signs for 24 h',
        tags,
        response: {
          200: json('The new secret', { type: 'object', properties: { account_id: { type: 'string' }, webhook_secret: { type: 'string' } }, required: ['webhook_secret'] }, { account_id: 'acme', webhook_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', previous_secret_expires_at: '2026-04-02T06:00:00.000Z' }),
          ...problems(401),
        },
      },
    },
    async (request) => {
    const rotated = await accounts.rotateWebhookSecret(request.principal.accountId);
    return {
      account_id: request.principal.accountId,
      webhook_secret: rotated.webhookSecret,
      // Until then callbacks carry a signature with the previous secret too.
      previous_secret_expires_at: rotated.previousSecretExpiresAt.toISOString(),
    };
    },
  );
}
