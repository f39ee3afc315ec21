import { loadConfig, type Config } from '@cdr-reports/config';
import { createPool, ensureDatabase, migrate, type Pool } from '@cdr-reports/db';
import { createProducerConnection } from '@cdr-reports/jobs';
import { createLogger, type Logger } from '@cdr-reports/logging';
import { openReportStorage } from '@cdr-reports/object-store';
import { createReportServices, type ReportServices } from '@cdr-reports/reports';

/** What every command may use; resources are opened on first use and closed by `close()`. */
export class CliContext {
  readonly config: Config;
  private pool: Pool | undefined;
  private logger: Logger | undefined;
  private opened: { services: ReportServices; close(): Promise<void> } | undefined;

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

  /** The service's use cases (schedules, reports), as the API runs them: PostgreSQL, Redis and the bucket. */
  async services(): Promise<ReportServices> {
    if (!this.opened) {
      const pool = await this.db();
      const redis = createProducerConnection(this.config.redisUrl, { enableOfflineQueue: true });
      const storage = await openReportStorage(this.config, this.log(), { ensure: false });
      const services = await createReportServices({ config: this.config, pool, redis, storage, logger: this.log() });
      this.opened = {
        services,
        async close() {
          await services.close();
          redis.disconnect();
          storage.close();
        },
      };
    }
    return this.opened.services;
  }

  async close(): Promise<void> {
    await this.opened?.close();
    this.opened = undefined;
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
