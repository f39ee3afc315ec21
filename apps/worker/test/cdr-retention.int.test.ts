import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ensurePartitions, listPartitions } from '@cdr-reports/cdr-store';
import { JOBS, QUEUES, createWorkerConnection, upsertSchedules } from '@cdr-reports/jobs';
import { createLogger } from '@cdr-reports/logging';
import { TEST_REDIS_URL, useReportCluster, type TestDatabase } from '@cdr-reports/testing';
import { runWorker } from '@cdr-reports/worker';

describe('worker: scheduled CDR retention', () => {
  const cluster = useReportCluster({ worker: false });
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;

  beforeAll(() => {
    db = cluster.services.db;
    prefix = cluster.services.prefix;
    // A probe of the maintenance queue, emptied and closed at teardown; its connection is the one the tests use.
    redis = cluster.reportQueue(QUEUES.maintenance).redis;
  });

  it('registers each maintenance scheduler once, however often they are upserted', async () => {
    await upsertSchedules(redis, prefix);
    await upsertSchedules(redis, prefix);
    const queue = new Queue(QUEUES.maintenance, { connection: redis, prefix });
    const schedulers = await queue.getJobSchedulers();
    await queue.close();
    expect(schedulers.map((s) => s.key).sort()).toEqual(['cdr-retention', 'report-sweeper', 'schedule-catch-up']);
    expect(schedulers.find((s) => s.key === 'cdr-retention')).toMatchObject({ pattern: JOBS['cdr-retention'].schedule?.pattern, tz: 'UTC' });
    expect(schedulers.find((s) => s.key === 'report-sweeper')).toMatchObject({ every: 60_000 });
    expect(schedulers.find((s) => s.key === 'schedule-catch-up')).toMatchObject({ every: 60_000 });
  });

  it('drops the partitions past CDR_RETENTION when the job runs', async () => {
    const now = new Date();
    const old = new Date(Date.UTC(now.getUTCFullYear() - 2, now.getUTCMonth(), 1));
    const recent = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    await ensurePartitions(db.pool, old, old);
    await ensurePartitions(db.pool, recent, recent);
    expect(await listPartitions(db.pool)).toHaveLength(2);

    const config = cluster.services.config({ CDR_RETENTION: '13 months' });
    const stop = await runWorker(config, createLogger({ app: 'worker-test', level: 'silent' }));
    const queue = new Queue(QUEUES.maintenance, { connection: redis, prefix });
    const eventsConnection = createWorkerConnection(TEST_REDIS_URL);
    const events = new QueueEvents(QUEUES.maintenance, { connection: eventsConnection, prefix });
    try {
      await events.waitUntilReady();
      const job = await queue.add('cdr-retention', {}, JOBS['cdr-retention'].options);
      const result = (await job.waitUntilFinished(events, 15_000)) as { dropped: string[] };
      const oldName = `cdrs_p${old.getUTCFullYear()}${String(old.getUTCMonth() + 1).padStart(2, '0')}`;
      expect(result.dropped).toEqual([oldName]);
      expect((await listPartitions(db.pool)).map((p) => p.name)).not.toContain(oldName);
      expect(await listPartitions(db.pool)).toHaveLength(1);
    } finally {
      await queue.close();
      await events.close();
      eventsConnection.disconnect();
      await stop();
    }
  });
});
