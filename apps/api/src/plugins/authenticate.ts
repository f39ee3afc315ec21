import type { FastifyRequest } from 'fastify';
import type { ApiKeysRepository, Principal } from '@cdr-reports/db';
import { UnauthorizedError } from '../problem';

declare module 'fastify' {
  interface FastifyRequest {
    /** The account the request's API key acts for; set on every /v1 route. */
    principal: Principal;
  }
}

/** A preHandler that resolves `Authorization: Bearer <key>` to the key's account, or answers 401. */
export function authenticate(keys: ApiKeysRepository) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError('missing Authorization header: send "Authorization: Bearer <api key>"');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError('malformed Authorization header: expected "Bearer <api key>"');
    const principal = await keys.authenticate(match[1]!);
    if (!principal) throw new UnauthorizedError('unknown or revoked API key');
    request.principal = principal;
  };
}
