import type { ReportCluster } from './report-cluster';

/** An account id and its parent's (undefined for a top-level account). */
export type AccountTree = readonly (readonly [id: string, parentId: string | undefined])[];

/** acme with a subaccount acme-uk and its child acme-uk-london, and globex, unrelated to them. Parents come first. */
export const ACME_AND_GLOBEX: AccountTree = [
  ['acme', undefined],
  ['acme-uk', 'acme'],
  ['acme-uk-london', 'acme-uk'],
  ['globex', undefined],
];

/** Creates the accounts of `tree` one after the other, in its order; returns their API keys by account id. */
export async function createAccounts(cluster: Pick<ReportCluster, 'account'>, tree: AccountTree): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const [id, parentId] of tree) keys[id] = await cluster.account(id, parentId);
  return keys;
}
