import { Queue } from 'bullmq';
import { QUEUES, ReportQueue, createProducerConnection } from '@cdr-reports/jobs';
import { TEST_REDIS_URL, uniqueQueuePrefix } from '@cdr-reports/testing';

/** Concurrent enqueues go to Redis together (one addBulk per batch); each report still gets exactly one job. */
describe('ReportQueue.enqueue under concurrency', () => {
  const prefix = uniqueQueuePrefix();
  const connection = createProducerConnection(TEST_REDIS_URL);
  const queue = new ReportQueue(connection, prefix);
  const standard = new Queue(QUEUES.reports, { connection, prefix });
  const large = new Queue(QUEUES.reportsLarge, { connection, prefix });

  afterAll(async () => {
    for (const q of [standard, large]) await q.obliterate({ force: true });
    await Promise.all([queue.close(), standard.close(), large.close()]);
    connection.disconnect();
  });

  it('enqueues every report once, in its lane, however many arrive at once', async () => {
    const ids = Array.from({ length: 60 }, () => crypto.randomUUID());
    await Promise.all([
      ...ids.map((id, i) => queue.enqueue(id, i % 4 === 0 ? 'large' : 'standard')),
      // The same reports again, as the sweeper might: no second job.
      ...ids.slice(0, 10).map((id, i) => queue.enqueue(id, i % 4 === 0 ? 'large' : 'standard')),
    ]);
    const waiting = async (q: Queue) => (await q.getJobs(['waiting', 'prioritized'])).map((job) => job.id).sort();
    expect(await waiting(standard)).toEqual(ids.filter((_, i) => i % 4 !== 0).sort());
    expect(await waiting(large)).toEqual(ids.filter((_, i) => i % 4 === 0).sort());
    const job = await standard.getJob(ids[1]!);
    expect(job).toMatchObject({ name: 'generate-report', data: { reportId: ids[1] } });
  });
});
