import type { AccountsRepository } from '@cdr-reports/db';
import { ForbiddenError } from '@cdr-reports/domain';

/** How many refused accounts a 403 names (the count of the rest follows). */
const NAMED_IN_REFUSAL = 5;

/**
 * Refuses a request that names accounts the key cannot act for (unknown ones included, so that a foreign
 * account and a missing one read the same): ForbiddenError naming the first few. One query for any number.
 */
export async function checkAccountIds(accounts: AccountsRepository, principal: string, ids: readonly string[], doing: 'request reports for' | 'schedule reports for' | 'read records of'): Promise<void> {
  const refused = await accounts.unreadable(principal, ids);
  if (refused.length === 0) return;
  const named = refused.slice(0, NAMED_IN_REFUSAL).join(', ');
  const more = refused.length > NAMED_IN_REFUSAL ? ` and ${refused.length - NAMED_IN_REFUSAL} more` : '';
  throw new ForbiddenError(`this API key cannot ${doing} ${refused.length === 1 ? 'account' : 'accounts'} ${named}${more}`);
}
