import type { Redis } from 'ioredis';
import { openReportStorage } from '@cdr-reports/object-store';
import type { ReportRunner } from '@cdr-reports/report-runner';
import { createReportServices } from '@cdr-reports/reports';
import type { ReportCluster } from './report-cluster';

/**
 * The report runner wired exactly as the apps wire it, on a cluster's services, over a Redis connection the test
 * owns (to drive the sweeper as its scheduled job would, while the test restarts Redis). `close()` closes what
 * was opened here, not the connection.
 */
export async function openReportRunner(cluster: Pick<ReportCluster, 'services' | 'logger'>, redis: Redis): Promise<{ runner: ReportRunner; close(): Promise<void> }> {
  const config = cluster.services.config();
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
