import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@cdr-reports/domain';
import type { Account, AccountsRepository } from '@cdr-reports/db';

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

  app.get('/v1/accounts', async (request) => {
    return { items: (await accounts.selfAndDescendants(request.principal.accountId)).map(toResource) };
  });

  app.get<{ Params: { id: string } }>('/v1/accounts/:id', async (request) => {
    const { id } = request.params;
    // An account the caller cannot see is indistinguishable from one that does not exist.
    const account = (await accounts.isSelfOrDescendant(request.principal.accountId, id)) ? await accounts.find(id) : undefined;
    if (!account) throw new NotFoundError(`account ${id} not found`);
    return toResource(account);
  });
}
