import type { Config } from '@cdr-reports/config';
import { createWorkerConnection } from '@cdr-reports/jobs';
import type { Logger } from '@cdr-reports/logging';

/**
 * Starts the notifier. Callback deliveries (signed, retried, SSRF-safe) are not part of this release yet:
 * the process connects to Redis so that deployments and health checks can include it from day one.
 */
export async function runNotifier(config: Config, logger: Logger): Promise<() => Promise<void>> {
  const connection = createWorkerConnection(config.redisUrl);
  await connection.ping();
  logger.info({ prefix: config.queuePrefix }, 'notifier started (no callback queue is defined in this release)');
  return async () => {
    await connection.quit();
    logger.info('notifier stopped: Redis connection closed');
  };
}
