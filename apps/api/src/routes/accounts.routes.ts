import type { FastifyInstance } from 'fastify';
import { ACCOUNT_ID_PATTERN, NotFoundError, ValidationError, type InvalidParam } from '@cdr-reports/domain';
import type { Account, AccountsRepository } from '@cdr-reports/db';
import { idParams, json, listAccountsQuery, problems } from '../openapi/schemas';

const accountExample = { account_id: 'acme', name: 'Acme', parent_id: null, created_at: '2026-01-05T09:00:00.000Z', _links: { self: { href: '/v1/accounts/acme' } } };
const accountSchema = { type: 'object', properties: { account_id: { type: 'string' }, name: { type: 'string' }, parent_id: { type: ['string', 'null'] } }, required: ['account_id', 'name'] };
const link = { type: 'object', properties: { href: { type: 'string' } }, required: ['href'] };
const pageSchema = {
  type: 'object',
  properties: { items: { type: 'array', items: accountSchema }, _links: { type: 'object', properties: { self: link, next: link }, required: ['self'] } },
  required: ['items', '_links'],
};
const pageExample = {
  items: [accountExample, { ...accountExample, account_id: 'acme-uk', name: 'Acme UK', parent_id: 'acme', _links: { self: { href: '/v1/accounts/acme-uk' } } }],
  _links: { self: { href: '/v1/accounts?limit=2' }, next: { href: '/v1/accounts?limit=2&cursor=YTE6YWNtZS11aw' } },
};

export const ACCOUNTS_MAX_LIMIT = 1000;
export const ACCOUNTS_DEFAULT_LIMIT = 100;
const QUERY_PARAMS = new Set(['limit', 'cursor', 'parent_id']);

const toResource = (account: Account) => ({
  account_id: account.id,
  name: account.name,
  parent_id: account.parentId,
  created_at: account.createdAt.toISOString(),
  _links: { self: { href: `/v1/accounts/${encodeURIComponent(account.id)}` } },
});

type Query = Record<string, string | string[] | undefined>;

/** The page asked for, or ValidationError naming every bad parameter. */
function parseListQuery(query: Query): { limit: number; after?: string; parentId?: string } {
  const problems: InvalidParam[] = [];
  const single = (name: string): string | undefined => {
    const value = query[name];
    if (!Array.isArray(value)) return value;
    problems.push({ name, reason: 'is given more than once' });
    return undefined;
  };
  for (const name of Object.keys(query)) if (!QUERY_PARAMS.has(name)) problems.push({ name, reason: 'unknown parameter' });
  let limit = ACCOUNTS_DEFAULT_LIMIT;
  const limitText = single('limit');
  if (limitText !== undefined) {
    limit = /^\d{1,9}$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= ACCOUNTS_MAX_LIMIT)) problems.push({ name: 'limit', reason: `must be a whole number from 1 to ${ACCOUNTS_MAX_LIMIT}` });
  }
  const cursor = single('cursor');
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  if (cursor !== undefined && after === undefined) problems.push({ name: 'cursor', reason: 'is not a cursor this API issued; pass the one of the previous page’s next link' });
  const parentId = single('parent_id');
  if (parentId !== undefined && !ACCOUNT_ID_PATTERN.test(parentId)) problems.push({ name: 'parent_id', reason: 'must be an account id (letters, digits, "_", ".", "-")' });
  if (problems.length > 0) throw new ValidationError(problems);
  return { limit, after, parentId };
}

// Opaque to callers: the last account id of the page (keyset: the next page starts after it).
function encodeCursor(accountId: string): string {
  return Buffer.from(`a1:${accountId}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,120}$/.test(cursor)) return undefined;
  const match = /^a1:(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match && ACCOUNT_ID_PATTERN.test(match[1]!) ? match[1] : undefined;
}

/** The accounts a key can act for: its own and every descendant. */
export async function accountsRoutes(app: FastifyInstance, options: { accounts: AccountsRepository }): Promise<void> {
  const { accounts } = options;

  app.get<{ Querystring: Query }>(
    '/v1/accounts',
    {
      schema: {
        summary: "The key's account and every descendant, in id order, one page at a time",
        description:
          `limit (1 to ${ACCOUNTS_MAX_LIMIT}, default ${ACCOUNTS_DEFAULT_LIMIT}) accounts a page; _links.next (absent on the last page) carries the cursor of the next. ` +
          'With parent_id, only the direct children of that account (the key’s own or a descendant, else 404).',
        tags: ['accounts'],
        querystring: listAccountsQuery,
        response: { 200: json('A page of accounts', pageSchema, pageExample), ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const principal = request.principal.accountId;
      const { limit, after, parentId } = parseListQuery(request.query);
      // A parent the key cannot see is indistinguishable from one that does not exist (as GET /v1/accounts/{id});
      // the closure holds rows of existing accounts only, so this one probe answers both.
      if (parentId !== undefined && !(await accounts.isSelfOrDescendant(principal, parentId))) {
        throw new NotFoundError(`account ${parentId} not found`);
      }
      const rows = await accounts.page({ under: principal, parentId, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const links: Record<string, { href: string }> = { self: { href: request.url } };
      const last = page[page.length - 1];
      if (rows.length > limit && last) {
        const next = new URLSearchParams({ ...(request.query as Record<string, string>), cursor: encodeCursor(last.id) });
        links.next = { href: `/v1/accounts?${next.toString()}` };
      }
      return { items: page.map(toResource), _links: links };
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
