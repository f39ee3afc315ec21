import { UsageError, type CliContext } from '../context';
import { cdrGenerateCommand } from './cdr-generate.command';
import { cdrImportCommand } from './cdr-import.command';
import { cdrRetentionCommand } from './cdr-retention.command';
import type { Command } from './command';

const SUBCOMMANDS: Record<string, Command> = {
  import: cdrImportCommand,
  generate: cdrGenerateCommand,
  retention: cdrRetentionCommand,
};

export const cdrCommand: Command = {
  summary: 'import, generate and expire call detail records',
  usage: Object.values(SUBCOMMANDS)
    .map((c) => c.usage)
    .join('\n'),
  async run(argv: string[], ctx: CliContext) {
    const [action, ...rest] = argv;
    const sub = action ? SUBCOMMANDS[action] : undefined;
    if (!sub) throw new UsageError(action ? `unknown action "cdr ${action}"` : 'cdr needs an action');
    return sub.run(rest, ctx);
  },
};
