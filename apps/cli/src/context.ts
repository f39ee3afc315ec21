import { loadConfig, type Config } from '@cdr-reports/config';
import { createPool, ensureDatabase, migrate, type Pool } from '@cdr-reports/db';
import { createLogger, type Logger } from '@cdr-reports/logging';

/** What every command may use; resources are opened on first use and closed by `close()`. */
export class CliContext {
  readonly config: Config;
  private pool: Pool | undefined;
  private logger: Logger | undefined;

  constructor(config: Config = loadConfig()) {
    this.config = config;
  }

  /** Logs go to standard error: standard output is for the command's result (JSON, tables, CSV). */
  log(): Logger {
    this.logger ??= createLogger({ app: 'cli', level: this.config.logLevel, destination: process.stderr });
    return this.logger;
  }

  /** The database, created and migrated if needed: every command works on a fresh machine. */
  async db(): Promise<Pool> {
    if (!this.pool) {
      await ensureDatabase(this.config.databaseUrl);
      this.pool = createPool({ connectionString: this.config.databaseUrl, applicationName: 'cdr-reports-cli' });
      await migrate(this.pool);
    }
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
  }
}

/** Writes a command's result for scripts: JSON on standard output. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
