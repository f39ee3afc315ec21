import type { Redis } from 'ioredis';
import { openReportStorage } from '@cdr-reports/object-store';
import type { ReportRunner } from '@cdr-reports/report-runner';
import { createReportServices } from '@cdr-reports/reports';
import type { ReportCluster } from './report-cluster';

/**
 * The report runner wired exactly as the apps wire it, on a cluster's services, over a Redis connection the test
 * owns (to drive the sweeper as its scheduled job would, while the test restarts Redis). `env` is what the suite gave
 * its cluster's apps (DESTINATION_SECRET_KEYS, DELIVERY_RETRY_BASE, ...), so the runner is configured as theirs.
 * `close()` closes what was opened here, not the connection.
 */
export async function openReportRunner(
  cluster: Pick<ReportCluster, 'services' | 'logger'>,
  redis: Redis,
  env: Record<string, string> = {},
): Promise<{ runner: ReportRunner; close(): Promise<void> }> {
  const config = cluster.services.config(env);
  const storage = await openReportStorage(config, cluster.logger, { ensure: false });
  const services = await createReportServices({ config, pool: cluster.services.db.pool, redis, storage, logger: cluster.logger });
  return {
    runner: services.runner,
    async close() {
      await services.close();
      storage.close();
    },
  };
}
