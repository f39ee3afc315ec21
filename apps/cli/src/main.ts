import { ConfigError } from '@cdr-reports/config';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@cdr-reports/domain';
import { accountsCommand } from './commands/accounts.command';
import { cdrCommand } from './commands/cdr.command';
import { destinationsCommand } from './commands/destinations.command';
import type { Command } from './commands/command';
import { keysCommand } from './commands/keys.command';
import { migrateCommand } from './commands/migrate.command';
import { reportCommand } from './commands/report.command';
import { schedulesCommand } from './commands/schedules.command';
import { startCommand } from './commands/start.command';
import { CliContext, UsageError } from './context';

const COMMANDS: Record<string, Command> = {
  migrate: migrateCommand,
  accounts: accountsCommand,
  keys: keysCommand,
  cdr: cdrCommand,
  schedules: schedulesCommand,
  destinations: destinationsCommand,
  report: reportCommand,
  start: startCommand,
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: npm run cli -- <command> [arguments]\n\ncommands:\n${lines.join('\n')}\n\n'npm run cli -- <command> --help' shows a command's usage.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  let ctx: CliContext;
  try {
    ctx = new CliContext();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(error as Error).message}\n\nusage:\n${command.usage}\n`);
      return 2;
    }
    if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof ConflictError || error instanceof ForbiddenError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await ctx.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
