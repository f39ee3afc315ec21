/**
 * Callbacks: deliveries per second to a local receiver, and the delay from a report's completion to the first
 * delivery attempt. Baseline for throughput: plain undici POSTs to the same receiver at the same concurrency
 * (what the machine can do without a queue, signing or bookkeeping). The notifier runs as its own process with
 * the default configuration; BENCH_EVENTS, BENCH_CONC (CALLBACK_CONCURRENCY) and BENCH_HOST
 * (CALLBACK_HOST_CONCURRENCY) change the run for exploring, and BENCH_NODE_OPTIONS reaches the notifier (to
 * --require a profiler, say).
 */
import { randomUUID } from 'node:crypto';
import { request, Agent } from 'undici';
import { CallbacksRepository, ReportsRepository, AccountsRepository } from '@cdr-reports/db';
import { CallbackOutbox, CallbackQueue, createWorkerConnection } from '@cdr-reports/jobs';
import { buildManifest, parseReportRequest } from '@cdr-reports/domain';
import { createLogger } from '@cdr-reports/logging';
import { AppProcess, startTestServices, startWebhookReceiver, waitFor } from '@cdr-reports/testing';
import { percentile, type Figure } from './report';

export async function benchCallbacks(options: { quick: boolean }): Promise<Figure[]> {
  // 10,000: long enough that the notifier's start (JIT, first connections) is a small part of the figure.
  const events = Number(process.env.BENCH_EVENTS ?? (options.quick ? 200 : 10_000));
  const latencySamples = options.quick ? 20 : 200;
  const services = await startTestServices();
  const receiver = await startWebhookReceiver(() => ({ status: 204 }));
  const tuning: Record<string, string> = {
    ...(process.env.BENCH_HOST ? { CALLBACK_HOST_CONCURRENCY: process.env.BENCH_HOST } : {}),
    ...(process.env.BENCH_CONC ? { CALLBACK_CONCURRENCY: process.env.BENCH_CONC } : {}),
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  };
  const config = services.config({ CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', ...tuning });
  const logger = createLogger({ app: 'bench', level: 'silent' });
  const accounts = new AccountsRepository(services.db.pool);
  const reports = new ReportsRepository(services.db.pool);
  const callbacks = new CallbacksRepository(services.db.pool);
  const redis = createWorkerConnection(config.redisUrl);
  const queue = new CallbackQueue(redis, config.queuePrefix, config.callbackRetrySchedule);
  const outbox = new CallbackOutbox(queue, callbacks, logger);
  await accounts.create({ name: 'bench', id: 'bench' });
  const now = new Date();
  const request0 = parseReportRequest(
    { product: 'SMS', account_id: 'bench', date_start: new Date(now.getTime() - 86_400_000).toISOString(), date_end: now.toISOString(), callback_url: receiver.url() },
    { principalAccountId: 'bench', now, oldestDateStart: new Date(0) },
  );

  /** A report finished the way the worker finishes one: terminal state and event in one transaction. */
  const finishReport = async () => {
    const { report } = await reports.create({ id: randomUUID(), requestedBy: 'bench', request: request0 });
    await reports.startProcessing(report.id);
    const summary = { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} };
    const change = await reports.complete(report.id, {
      files: [],
      manifestKey: `reports/bench/${report.id}/manifest.json`,
      manifest: buildManifest({ id: report.id, accountId: 'bench', request: request0, summary, itemsCount: 0 }, [], (file) => file.key, new Date()),
      itemsCount: 0,
      summary: { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} },
      fileKey: `reports/bench/${report.id}/x.csv.gz`,
      file: { name: 'x.csv.gz', size_bytes: 20, content_type: 'application/gzip' },
      endTime: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return change.eventId!;
  };

  const figures: Figure[] = [];
  // Throughput: a backlog of N recorded and enqueued events, delivered by a notifier that starts on it;
  // measured from the first request the receiver gets to the last.
  for (let i = 0; i < events; i++) await outbox.publish(await finishReport());
  // The notifier runs as in production: a process of its own, next to the receiver's.
  const notifier = new AppProcess('notifier', services.env({ CALLBACK_ALLOWED_NETWORKS: '127.0.0.0/8', ...tuning }));
  await notifier.ready();
  try {
    await waitFor(() => receiver.received.length >= events || undefined, { timeoutMs: 300_000, intervalMs: 5 });
    const first = receiver.received[0]!.receivedAt;
    const last = receiver.received[events - 1]!.receivedAt;
    const perSecond = (events - 1) / Math.max(0.001, (last - first) / 1000);

    // Baseline: the same number of plain POSTs at the notifier's concurrency, straight to the receiver.
    const agent = new Agent();
    const baselineStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: config.callbackConcurrency }, async () => {
        while (next < events) {
          next++;
          const response = await request(receiver.url(), { method: 'POST', body: '{}', dispatcher: agent, headers: { 'content-type': 'application/json' } });
          await response.body.dump();
        }
      }),
    );
    const baseline = events / ((performance.now() - baselineStarted) / 1000);
    await agent.close();
    figures.push({
      benchmark: 'callbacks',
      figure: `deliveries per second (${events} events, one receiver)`,
      value: perSecond,
      unit: '/s',
      baseline: { name: 'plain POSTs, same concurrency', value: baseline },
      target: { text: '>= 1,000/s', met: perSecond >= 1_000 },
    });

    // Delay from completion to the first attempt, one report at a time (an idle notifier).
    const delays: number[] = [];
    for (let i = 0; i < latencySamples; i++) {
      const before = receiver.received.length;
      const eventId = await finishReport();
      const completedAt = Date.now();
      await outbox.publish(eventId);
      const arrived = await waitFor(() => (receiver.received.length > before ? receiver.received[before]! : undefined), { timeoutMs: 10_000, intervalMs: 1 });
      delays.push(arrived.receivedAt - completedAt);
    }
    const p99 = percentile(delays, 99);
    figures.push({ benchmark: 'callbacks', figure: 'completion to first attempt, p50', value: percentile(delays, 50), unit: 'ms' });
    figures.push({ benchmark: 'callbacks', figure: 'completion to first attempt, p99', value: p99, unit: 'ms', target: { text: '< 250 ms', met: p99 < 250 } });
  } finally {
    await notifier.stop();
    await queue.close();
    await redis.quit();
    await receiver.close();
    await services.close();
  }
  return figures;
}
