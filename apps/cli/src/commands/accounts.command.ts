import { parseArgs } from 'node:util';
import { AccountsRepository } from '@cdr-reports/db';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli accounts create --name NAME [--id ID] [--parent PARENT_ID]
    creates an account (a subaccount with --parent) and prints {"account_id", "api_key", "webhook_secret"};
    the key and the secret are shown this once
cli accounts list
    prints every account with its parent`;

export const accountsCommand: Command = {
  summary: 'create and list accounts (subaccounts with --parent)',
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
    throw new UsageError(action ? `unknown action "accounts ${action}"` : 'accounts needs an action');
  },
};
