import { parseArgs } from 'node:util';
import { toDestinationResource } from '@cdr-reports/reports';
import { printJson, UsageError, type CliContext } from '../context';
import type { Command } from './command';

const USAGE = `cli destinations create --account ACCOUNT_ID --json '{"name": ..., "type": "s3" | "sftp", "s3"|"sftp": {...}}'
    adds a destination of the account (the body of POST /v1/destinations); secrets are sealed, never printed
cli destinations list --account ACCOUNT_ID
    lists the destinations of the account and its descendants
cli destinations show ID --account ACCOUNT_ID | test ID --account ACCOUNT_ID | delete ID --account ACCOUNT_ID
    shows one; writes, reads back and deletes a probe object (prints the step that failed); deletes one`;

export const destinationsCommand: Command = {
  summary: 'add, list, test and delete destinations (customer S3 buckets and SFTP servers)',
  usage: USAGE,
  async run(argv: string[], ctx: CliContext) {
    const [action, ...rest] = argv;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { account: { type: 'string' }, json: { type: 'string' } } });
    if (!values.account) throw new UsageError('--account is required: the CLI acts for that account');
    const destinations = (await ctx.services()).destinations;
    const id = () => {
      if (positionals.length !== 1) throw new UsageError(`destinations ${action} takes exactly one destination ID`);
      return positionals[0]!;
    };
    switch (action) {
      case 'create': {
        let body: unknown;
        try {
          body = JSON.parse(values.json ?? '');
        } catch {
          throw new UsageError('--json must be a JSON object: the body of POST /v1/destinations');
        }
        printJson(toDestinationResource(await destinations.create(values.account, body)));
        return 0;
      }
      case 'list': {
        const items = [];
        let cursor: string | undefined;
        do {
          const page = await destinations.list(values.account, { limit: '100', ...(cursor && { cursor }) });
          items.push(...page.destinations.map(toDestinationResource));
          cursor = page.nextCursor;
        } while (cursor);
        printJson({ items });
        return 0;
      }
      case 'show':
        printJson(toDestinationResource(await destinations.get(values.account, id())));
        return 0;
      case 'test': {
        const result = await destinations.test(values.account, id());
        printJson(result);
        return result.ok ? 0 : 1;
      }
      case 'delete':
        await destinations.delete(values.account, id());
        return 0;
      default:
        throw new UsageError(`unknown action "${action ?? ''}": create, list, show, test or delete`);
    }
  },
};
