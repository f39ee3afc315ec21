import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@cdr-reports/domain';
import type { Account, AccountsRepository } from '@cdr-reports/db';
import { idParams, json, problems } from '../openapi/schemas';

const accountExample = { account_id: 'acme', name: 'Acme', parent_id: null, created_at: '2026-01-05T09:00:00.000Z', _links: { self: { href: '/v1/accounts/acme' } } };
const accountSchema = { type: 'object', properties: { account_id: { type: 'string' }, name: { type: 'string' }, parent_id: { type: ['string', 'null'] } }, required: ['account_id', 'name'] };

const toResource = (account: Account) => ({
  account_id: account.id,
  name: account.name,
  parent_id: account.parentId,
  created_at: account.createdAt.toISOString(),
  _links: { self: { href: `/v1/accounts/${encodeURIComponent(account.id)}` } },
});

/** The accounts a key can act for: its own and every descendant. */
export async function accountsRoutes(app: FastifyInstance, options: { accounts: AccountsRepository }): Promise<void> {
  const { accounts } = options;

  app.get(
    '/v1/accounts',
    { schema: { summary: "The key's account and every descendant", tags: ['accounts'], response: { 200: json('The accounts', { type: 'object', properties: { items: { type: 'array', items: accountSchema } } }, { items: [accountExample] }), ...problems(401) } } },
    async (request) => {
    return { items: (await accounts.selfAndDescendants(request.principal.accountId)).map(toResource) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/accounts/:id',
    { schema: { summary: 'One of those accounts', tags: ['accounts'], params: idParams, response: { 200: json('The account', accountSchema, accountExample), ...problems(401, 404) } } },
    async (request) => {
    const { id } = request.params;
    // An account the caller cannot see is indistinguishable from one that does not exist.
    const account = (await accounts.isSelfOrDescendant(request.principal.accountId, id)) ? await accounts.find(id) : undefined;
    if (!account) throw new NotFoundError(`account ${id} not found`);
    return toResource(account);
    },
  );
}
