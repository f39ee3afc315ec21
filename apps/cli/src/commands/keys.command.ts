import { parseArgs } from 'node:util';
import { ApiKeysRepository } from '@cdr-reports/db';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli keys create --account ACCOUNT_ID [--name NAME]
    creates another API key for the account and prints it (shown this once)
cli keys list [--account ACCOUNT_ID]
    lists keys (ids, never the keys themselves) with their revocation time
cli keys revoke KEY_ID
    revokes the key at once`;

export const keysCommand: Command = {
  summary: 'create, list and revoke API keys',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const [action, ...rest] = argv;
    const keys = new ApiKeysRepository(await ctx.db());
    const show = (k: { id: string; accountId: string; name: string | null; createdAt: Date; revokedAt: Date | null }) => ({
      api_key_id: k.id,
      account_id: k.accountId,
      name: k.name,
      created_at: k.createdAt,
      revoked_at: k.revokedAt,
    });
    if (action === 'create') {
      const { values } = parseArgs({ args: rest, options: { account: { type: 'string' }, name: { type: 'string' } } });
      if (!values.account) throw new UsageError('--account is required');
      const created = await keys.create(values.account, values.name);
      printJson({ ...show(created.key), api_key: created.apiKey });
      return 0;
    }
    if (action === 'list') {
      const { values } = parseArgs({ args: rest, options: { account: { type: 'string' } } });
      printJson((await keys.list(values.account)).map(show));
      return 0;
    }
    if (action === 'revoke') {
      const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
      if (positionals.length !== 1) throw new UsageError('keys revoke takes exactly one KEY_ID');
      printJson(show(await keys.revoke(positionals[0]!)));
      return 0;
    }
    throw new UsageError(action ? `unknown action "keys ${action}"` : 'keys needs an action');
  },
};
