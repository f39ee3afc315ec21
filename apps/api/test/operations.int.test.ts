import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createWorkerConnection } from '@cdr-reports/jobs';
import { jobFlowCheck } from '@cdr-reports/observability';
import { TEST_REDIS_URL, freePort, uniqueQueuePrefix, waitFor, useReportCluster } from '@cdr-reports/testing';

/**
 * What operators rely on: Prometheus metrics on every app, /readyz that tells which dependency is down, the
 * queue dashboard behind the admin token, and a worker that reads as not ready when it stops taking jobs.
 */
describe('operations endpoints', () => {
  const ADMIN_TOKEN = 'admin-token-for-the-tests-0123456789';
  const cluster = useReportCluster({ worker: false, restartableS3: true, env: { ADMIN_TOKEN } });
  let key: string;

  beforeAll(async () => {
    key = await cluster.account('acme');
  }, 60_000);

  it('the API counts requests by route and status in /metrics', async () => {
    await cluster.request('GET', '/v1/reports', key);
    await cluster.request('GET', '/v1/reports/00000000-0000-4000-8000-000000000000', key);
    const response = await cluster.api.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('cdr_reports_http_request_duration_seconds_count{app="api",method="GET",route="/v1/reports",status_code="200"} 1');
    expect(response.body).toContain('cdr_reports_http_request_duration_seconds_count{app="api",method="GET",route="/v1/reports/:id",status_code="404"} 1');
    expect(response.body).toContain('cdr_reports_process_resident_memory_bytes');
  });

  it('/readyz names the dependency that is down, and recovers with it', async () => {
    const ready = await cluster.api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok', s3: 'ok' } });
    await cluster.s3.stop();
    try {
      const down = await cluster.api.app.inject({ method: 'GET', url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ status: 'not ready', checks: { postgres: 'ok', redis: 'ok', s3: expect.not.stringMatching(/^ok$/) } });
      expect((await cluster.api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await cluster.s3.start();
    }
    expect((await cluster.api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('the queue dashboard opens with the admin token only', async () => {
    const without = await cluster.api.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(without.statusCode).toBe(401);
    expect(without.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const withApiKey = await cluster.api.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Bearer ${key}` } });
    expect(withApiKey.statusCode).toBe(401);
    const bearer = await cluster.api.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.body).toMatch(/<html/i);
    const basic = Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64');
    const queues = await cluster.api.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Basic ${basic}` } });
    expect(queues.statusCode).toBe(200);
    expect((queues.json() as { queues: Array<{ name: string }> }).queues.map((q) => q.name)).toEqual(expect.arrayContaining(['reports', 'callbacks', 'schedules']));
  });

  it('the worker and the notifier serve /metrics, /healthz and /readyz on METRICS_PORT', async () => {
    for (const app of ['worker', 'notifier'] as const) {
      const port = await freePort();
      const process = cluster.spawn(app, { METRICS_PORT: String(port) });
      try {
        await process.ready();
        const base = `http://127.0.0.1:${port}`;
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        const ready = await waitFor(async () => {
          const response = await fetch(`${base}/readyz`);
          return response.status === 200 ? ((await response.json()) as { checks: Record<string, string> }) : undefined;
        }, { timeoutMs: 10_000, what: `${app} to be ready` });
        expect(Object.values(ready.checks).every((v) => v === 'ok')).toBe(true);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toContain(`app="${app}"`);
        expect(metrics).toMatch(/cdr_reports_jobs\{[^}]*state="waiting"[^}]*\} \d+/);
      } finally {
        await process.stop();
      }
    }
  }, 60_000);
});

describe('jobFlowCheck', () => {
  let connection: Redis;
  const prefix = uniqueQueuePrefix();

  beforeAll(() => {
    connection = createWorkerConnection(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await connection.quit();
  });

  it('reads not ready when jobs wait and a worker with free slots takes none; ready again once they flow', async () => {
    const queue = new Queue('flow', { connection, prefix });
    // Connected, running and idle, but deaf to this queue: what a worker wedged after a reconnect looks like.
    const deaf = new Worker('flow', async () => 'done', { connection, prefix: `${prefix}-elsewhere`, concurrency: 2 });
    try {
      await deaf.waitUntilReady();
      const check = jobFlowCheck({ worker: deaf, queue, stallMs: 300 });
      // An idle queue is fine.
      await check();
      await queue.add('job', {});
      await check();
      await new Promise((resolve) => setTimeout(resolve, 400));
      await expect(check()).rejects.toThrow(/1 jobs have waited \d+ s on flow with a free slot and none was taken/);
      // Jobs flow again (another worker takes them): ready.
      const working = new Worker('flow', async () => 'done', { connection, prefix });
      await waitFor(async () => (await queue.getCompletedCount()) === 1 || undefined, { what: 'the job to flow again' });
      await working.close();
      await check();
      // A worker that stopped is not ready whatever the queue holds.
      await deaf.close();
      await expect(check()).rejects.toThrow('the flow worker is not running');
    } finally {
      await deaf.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
