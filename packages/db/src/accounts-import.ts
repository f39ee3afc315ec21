import { ACCOUNT_ID_PATTERN, ValidationError, type InvalidParam } from '@cdr-reports/domain';
import { newWebhookSecret } from './accounts.repository';
import { withTransaction, type Pool } from './pool';

/** One account to import, with the line of the file it came from (for error messages). */
export interface AccountImportRow {
  line: number;
  id: string;
  name: string;
  /** Undefined for a top-level account. */
  parentId?: string;
}

export interface AccountImportResult {
  /** Accounts inserted now. */
  created: number;
  /** Rows whose account already existed with the same parent: left as they are (a re-run changes nothing). */
  alreadyPresent: number;
}

/** Every problem of an import, one per line (named `line N`), each naming the account. Nothing was written. */
export class AccountImportError extends ValidationError {
  override name = 'AccountImportError';
  constructor(readonly problems: readonly { line: number; reason: string }[]) {
    super(problems.map((p): InvalidParam => ({ name: `line ${p.line}`, reason: p.reason })));
  }
}

interface ExistingRow {
  id: string;
  parent_id: string | null;
}

/**
 * Creates many accounts at once, all or nothing (one transaction): a reseller's whole tree. Rows may come in any
 * order (a parent after its children); a parent must be in the rows or in the database. Each new account gets
 * its webhook secret, as AccountsRepository.create gives one, but no API key (a key is shown only once, so
 * keys are made for the accounts that need one: `cli keys create`). The accounts go in with one INSERT, and the
 * closure trigger files the whole batch into the tree, whatever its order. Throws AccountImportError listing
 * every bad row: bad ids or names, ids given twice, unknown parents, cycles, and accounts that exist under
 * another parent (accounts never move).
 */
export async function importAccounts(pool: Pool, rows: readonly AccountImportRow[]): Promise<AccountImportResult> {
  const problems: { line: number; reason: string }[] = [];
  const byId = new Map<string, AccountImportRow>();
  const inFile = new Set(rows.map((row) => row.id));
  for (const row of rows) {
    const before = problems.length;
    if (!ACCOUNT_ID_PATTERN.test(row.id)) problems.push({ line: row.line, reason: `id "${row.id.slice(0, 80)}" is not an account id (1-64 letters, digits, "_", "." or "-", starting with a letter or digit)` });
    if (!row.name.trim()) problems.push({ line: row.line, reason: `name of ${row.id.slice(0, 80)} is empty` });
    if (row.parentId !== undefined && !ACCOUNT_ID_PATTERN.test(row.parentId)) problems.push({ line: row.line, reason: `parent_id "${row.parentId.slice(0, 80)}" is not an account id` });
    if (row.parentId === row.id) problems.push({ line: row.line, reason: `account ${row.id} is its own parent` });
    const first = byId.get(row.id);
    if (first) problems.push({ line: row.line, reason: `account ${row.id} is already on line ${first.line}` });
    else if (problems.length === before) byId.set(row.id, row);
  }

  return withTransaction(pool, async (client) => {
    // Writers wait while the batch is checked and inserted, so what was checked is what gets inserted.
    await client.query('LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE');
    const named = new Set<string>();
    for (const row of byId.values()) {
      named.add(row.id);
      if (row.parentId !== undefined) named.add(row.parentId);
    }
    const existing = new Map(
      (await client.query<ExistingRow>('SELECT id, parent_id FROM accounts WHERE id = ANY($1::text[])', [[...named]])).rows.map((r) => [r.id, r.parent_id]),
    );

    const fresh = new Map<string, AccountImportRow>();
    let alreadyPresent = 0;
    for (const row of byId.values()) {
      if (existing.has(row.id)) {
        const parent = existing.get(row.id) ?? undefined;
        if (parent === row.parentId) alreadyPresent += 1;
        else problems.push({ line: row.line, reason: `account ${row.id} exists with parent ${parent ?? '(none)'}, not ${row.parentId ?? '(none)'}: accounts cannot move` });
        continue;
      }
      fresh.set(row.id, row);
    }
    for (const row of fresh.values()) {
      if (row.parentId !== undefined && !inFile.has(row.parentId) && !existing.has(row.parentId)) {
        problems.push({ line: row.line, reason: `parent ${row.parentId} of account ${row.id} is neither in the database nor in the file` });
      }
    }
    for (const cycle of cycles(fresh)) {
      const first = cycle[0]!;
      problems.push({
        line: first.line,
        reason: `accounts ${cycle.map((r) => `${r.id} (line ${r.line})`).join(' -> ')} -> ${first.id} form a cycle of parents`,
      });
    }
    if (problems.length > 0) {
      problems.sort((a, b) => a.line - b.line);
      throw new AccountImportError(problems);
    }

    const created = [...fresh.values()];
    if (created.length > 0) {
      await client.query(
        `INSERT INTO accounts (id, name, parent_id, webhook_secret)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
        [created.map((r) => r.id), created.map((r) => r.name.trim()), created.map((r) => r.parentId ?? null), created.map(() => newWebhookSecret())],
      );
    }
    return { created: created.length, alreadyPresent };
  });
}

/** The cycles of parents among the new rows (each reported once, from the row that comes first in the walk). */
function cycles(rows: ReadonlyMap<string, AccountImportRow>): AccountImportRow[][] {
  const state = new Map<string, 'walking' | 'done'>();
  const found: AccountImportRow[][] = [];
  for (const start of rows.values()) {
    const path: AccountImportRow[] = [];
    let row: AccountImportRow | undefined = start;
    while (row && !state.has(row.id)) {
      state.set(row.id, 'walking');
      path.push(row);
      row = row.parentId === undefined ? undefined : rows.get(row.parentId);
    }
    if (row && state.get(row.id) === 'walking') {
      // The walk came back to a row of its own path: from there on, the path is the cycle (walked child to parent).
      found.push(path.slice(path.indexOf(row)));
    }
    for (const walked of path) state.set(walked.id, 'done');
  }
  return found;
}
