import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/** The token, as `Authorization: Bearer <token>` or as the password of Basic auth (what a browser prompts for). */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer (.+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  return decoded.slice(decoded.indexOf(':') + 1);
}

function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Bull Board at /admin/queues, for operators: every queue's jobs, behind ADMIN_TOKEN. */
export async function adminRoutes(app: FastifyInstance, options: { token: string; queues: Queue[] }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  createBullBoard({ queues: options.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      if (sameToken(presentedToken(request), options.token)) return;
      await reply
        .code(401)
        .header('WWW-Authenticate', 'Basic realm="cdr-reports admin", charset="UTF-8"')
        .type('application/problem+json')
        .send({ type: 'https://cdr-reports.dev/problems/unauthorized', title: 'Unauthorized', status: 401, detail: 'the queue dashboard needs the admin token (ADMIN_TOKEN)' });
    });
    await admin.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
  });
}
