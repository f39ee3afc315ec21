import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AccountImportError, AccountsRepository, importAccounts } from '@cdr-reports/db';
import { parseAccountsCsv } from './accounts-csv';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli accounts create --name NAME [--id ID] [--parent PARENT_ID]
    creates an account (a subaccount with --parent) and prints {"account_id", "api_key", "webhook_secret"};
    the key and the secret are shown this once
cli accounts list
    prints every account with its parent
cli accounts import FILE
    creates the accounts of a CSV file with the header id,name,parent_id (parent_id empty for a top-level
    account; rows in any order, a parent may follow its children), all or nothing in one transaction, and
    prints {"created", "already_present"}. Accounts already there with the same parent are left as they are.
    Each new account gets a webhook secret but no API key (make one with cli keys create). Any bad row (bad id,
    empty name, id given twice, unknown parent, cycle, existing account under another parent) rejects the
    file: every problem is printed with its line number, exit code 1`;

/** How many problems of a rejected file are printed (the count of the rest follows). */
const MAX_PRINTED_PROBLEMS = 50;

export const accountsCommand: Command = {
  summary: 'create, list and bulk-import accounts (subaccounts with --parent)',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const [action, ...rest] = argv;
    const accounts = new AccountsRepository(await ctx.db());
    if (action === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, id: { type: 'string' }, parent: { type: 'string' } },
      });
      if (!values.name) throw new UsageError('--name is required');
      const created = await accounts.create({ name: values.name, id: values.id, parentId: values.parent });
      printJson({
        account_id: created.account.id,
        name: created.account.name,
        parent_id: created.account.parentId,
        api_key: created.apiKey,
        api_key_id: created.apiKeyId,
        webhook_secret: created.webhookSecret,
      });
      return 0;
    }
    if (action === 'list') {
      parseArgs({ args: rest, options: {} });
      printJson(
        (await accounts.list()).map((a) => ({ account_id: a.id, name: a.name, parent_id: a.parentId, created_at: a.createdAt })),
      );
      return 0;
    }
    if (action === 'import') {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length !== 1) throw new UsageError('accounts import takes one FILE');
      const file = positionals[0]!;
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`cannot read ${file}`);
      });
      const started = Date.now();
      const csv = parseAccountsCsv(text);
      let problems = csv.problems;
      if (problems.length === 0) {
        try {
          const result = await importAccounts(await ctx.db(), csv.rows);
          printJson({ file, rows: csv.rows.length, created: result.created, already_present: result.alreadyPresent, elapsed_ms: Date.now() - started });
          return 0;
        } catch (error) {
          if (!(error instanceof AccountImportError)) throw error;
          problems = [...error.problems];
        }
      }
      const shown = problems.slice(0, MAX_PRINTED_PROBLEMS).map((p) => `  line ${p.line}: ${p.reason}\n`);
      const more = problems.length > MAX_PRINTED_PROBLEMS ? `  ... and ${problems.length - MAX_PRINTED_PROBLEMS} more\n` : '';
      process.stderr.write(`error: ${file}: ${problems.length} problem(s), nothing imported\n${shown.join('')}${more}`);
      return 1;
    }
    throw new UsageError(action ? `unknown action "accounts ${action}"` : 'accounts needs an action');
  },
};
