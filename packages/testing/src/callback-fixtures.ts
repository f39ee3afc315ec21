import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import type { Pool } from '@cdr-reports/db';
import { CallbackQueue, QUEUES, createWorkerConnection } from '@cdr-reports/jobs';
import type { ReportCluster, ReportResource } from './report-cluster';
import { TEST_REDIS_URL } from './redis';
import { waitFor } from './wait';
import type { ReceivedWebhook } from './webhook-receiver';

/** One attempt as GET /v1/reports/{id}/callbacks shows it. */
export interface CallbackAttemptResource {
  attempt: number;
  time: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

/** GET /v1/reports/{id}/callbacks. */
export interface CallbackLogResource {
  event_id: string;
  type: string;
  url: string;
  state: 'pending' | 'delivered' | 'failed';
  created_at: string;
  delivered_at: string | null;
  attempts: CallbackAttemptResource[];
  _links: Record<string, { href: string }>;
}

/** A callback body as the receiver got it. */
export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: ReportResource;
}

/** The report's callback log, or undefined while it has none (404). Any other answer is an error. */
export async function callbackLog(cluster: Pick<ReportCluster, 'request'>, key: string, reportId: string): Promise<CallbackLogResource | undefined> {
  const response = await cluster.request('GET', `/v1/reports/${reportId}/callbacks`, key);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`GET callbacks answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as CallbackLogResource;
}

/** Polls the callback log until its state is one of `states`. */
export function waitForCallbackState(
  cluster: Pick<ReportCluster, 'request'>,
  key: string,
  reportId: string,
  states: CallbackLogResource['state'][],
  timeoutMs = 15_000,
): Promise<CallbackLogResource> {
  return waitFor(
    async () => {
      const log = await callbackLog(cluster, key, reportId);
      return log && states.includes(log.state) ? log : undefined;
    },
    { timeoutMs, what: `the callback of report ${reportId} to be ${states.join(' or ')}` },
  );
}

/** The account's current webhook secret, read from the database (the API shows it once, at creation). */
export async function webhookSecret(pool: Pool, accountId: string): Promise<string> {
  const result = await pool.query<{ webhook_secret: string }>('SELECT webhook_secret FROM accounts WHERE id = $1', [accountId]);
  if (!result.rows[0]) throw new Error(`no account ${accountId}`);
  return result.rows[0].webhook_secret;
}

/**
 * Verifies a received callback with the published `standardwebhooks` package (not the project's signer) and
 * returns its parsed body; throws WebhookVerificationError when no signature matches `secret`.
 */
export function verifyWebhook(secret: string, webhook: ReceivedWebhook): WebhookEvent {
  return new Webhook(secret).verify(webhook.body, webhook.headers as Record<string, string>) as WebhookEvent;
}

/** The `v1,...` entries of a received callback's webhook-signature header. */
export function signaturesOf(webhook: ReceivedWebhook): string[] {
  return String(webhook.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((s) => s !== '');
}

/** The requests a receiver got for one report (by the request_id in their body). */
export function receivedForReport(received: readonly ReceivedWebhook[], reportId: string): ReceivedWebhook[] {
  return received.filter((r) => {
    try {
      return (JSON.parse(r.body) as WebhookEvent).data.request_id === reportId;
    } catch {
      return false;
    }
  });
}

/**
 * Creates a report calling back `callbackUrl` and cancels it at once, so its report.aborted event is recorded
 * and enqueued without any export. Only deterministic in a cluster without a worker (the report stays PENDING).
 */
export async function createAbortedReport(
  cluster: Pick<ReportCluster, 'request' | 'createReport'>,
  key: string,
  body: Record<string, unknown>,
): Promise<{ id: string; abortedAt: number }> {
  const id = (await cluster.createReport(key, body)).request_id;
  const abortedAt = Date.now();
  const response = await cluster.request('DELETE', `/v1/reports/${id}`, key);
  if (response.status !== 200 || response.body.request_status !== 'ABORTED') {
    throw new Error(`DELETE /v1/reports/${id} answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return { id, abortedAt };
}

/** The callbacks queue of a test's prefix: the producer the apps use, and BullMQ's view of its jobs. */
export interface CallbackQueueProbe {
  redis: Redis;
  /** Enqueues as the worker's fast path and the outbox relay do. */
  producer: CallbackQueue;
  queue: Queue;
  /** Jobs not finished yet: waiting, delayed, active, prioritized. */
  unfinished(): Promise<number>;
  /** Removes every job left, then closes the queues and the connection. */
  close(): Promise<void>;
}

export function openCallbackQueue(prefix: string, attempts = 3, redisUrl = TEST_REDIS_URL): CallbackQueueProbe {
  const redis = createWorkerConnection(redisUrl);
  const producer = new CallbackQueue(redis, prefix, Array<number>(attempts).fill(0));
  const queue = new Queue(QUEUES.callbacks, { connection: redis, prefix });
  return {
    redis,
    producer,
    queue,
    async unfinished() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'wait');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await producer.close();
      await redis.quit();
    },
  };
}
