import type { Config } from '@cdr-reports/config';
import { AccountsRepository, ApiKeysRepository, createPool, ensureDatabase, migrate } from '@cdr-reports/db';
import type { Logger } from '@cdr-reports/logging';
import { buildApi } from './app';

/** Starts the API on config.port and returns a function that stops it (drains requests, closes the pool). */
export async function runApi(config: Config, logger: Logger): Promise<() => Promise<void>> {
  await ensureDatabase(config.databaseUrl);
  const pool = createPool({ connectionString: config.databaseUrl, applicationName: 'cdr-reports-api' });
  await migrate(pool);
  const app = await buildApi({ logger, accounts: new AccountsRepository(pool), keys: new ApiKeysRepository(pool) });
  await app.listen({ port: config.port, host: '0.0.0.0' });
  return async () => {
    await app.close();
    await pool.end();
    logger.info('api stopped: in-flight requests drained, database pool closed');
  };
}
