import type { FastifyInstance } from 'fastify';
import type { AccountsRepository } from '@cdr-reports/db';
import { NotFoundError } from '@cdr-reports/domain';
import type { CallbackLog, CallbackService } from '@cdr-reports/reports';

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

  app.get<{ Params: { id: string } }>('/v1/reports/:id/callbacks', async (request) => {
    const log = await callbacks.log(request.principal.accountId, request.params.id);
    if (!log) throw new NotFoundError(`report ${request.params.id} has no callback event: it has no callback_url or has not finished`);
    return toResource(request.params.id, log);
  });

  app.post<{ Params: { id: string } }>('/v1/reports/:id/callbacks/redeliver', async (request, reply) => {
    const log = await callbacks.redeliver(request.principal.accountId, request.params.id);
    return reply.code(202).send(toResource(request.params.id, log));
  });

  app.post('/v1/webhook-secret/rotate', async (request) => {
    const rotated = await accounts.rotateWebhookSecret(request.principal.accountId);
    return {
      account_id: request.principal.accountId,
      webhook_secret: rotated.webhookSecret,
      // Until then callbacks carry a signature with the previous secret too.
      previous_secret_expires_at: rotated.previousSecretExpiresAt.toISOString(),
    };
  });
}
