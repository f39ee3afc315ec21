import type { IncomingMessage } from 'node:http';
import { AppProcess, type AppName } from './app-process';
import { openCallbackQueue, type CallbackQueueProbe } from './callback-fixtures';
import { startReportCluster, type ReportCluster, type ReportClusterOptions } from './report-cluster';
import { abortUnfinishedReports, openReportQueue, type ReportQueueProbe } from './report-queue-probe';
import { startTestRedisServer, type TestRedisServer } from './redis-server';
import { startRestartableS3, type RestartableS3 } from './restartable-s3';
import { startWebhookReceiver, type WebhookAnswer, type WebhookReceiver } from './webhook-receiver';

export interface ReportClusterFixtureOptions extends Omit<ReportClusterOptions, 'redisUrl' | 's3'> {
  /** A redis-server of the suite's own (`redisServer`), which tests may stop and start. Default false: the machine's Redis. */
  ownRedis?: boolean;
  /** An S3 server that tests may stop and start (`s3`), instead of a fresh embedded one they cannot. Default false. */
  restartableS3?: boolean;
  /** How long starting it all may take. Default 60 s. */
  setupTimeoutMs?: number;
  /** How long tearing it all down may take. Default 60 s. */
  teardownTimeoutMs?: number;
}

/**
 * A running report cluster (see ReportCluster) that belongs to the fixture: the suite uses it inside its tests and
 * hooks, and adds what else it opens through the fixture, which closes it all.
 */
export interface ReportClusterFixture extends Omit<ReportCluster, 'close'> {
  /** The suite's own redis-server (ownRedis). */
  readonly redisServer: TestRedisServer;
  /** The S3 server tests may stop and start (restartableS3). */
  readonly s3: RestartableS3;
  /** Starts `cli start <app>` as its own process, configured for this cluster with `env` on top; killed at teardown. */
  spawn(app: AppName, env?: Record<string, string>): AppProcess;
  /** Starts a webhook receiver (startWebhookReceiver); closed at teardown. */
  receiver(answer?: (n: number, request: IncomingMessage) => WebhookAnswer): Promise<WebhookReceiver>;
  /** Opens a probe of the cluster's reports queue, or of its queue `name` (openReportQueue); emptied and closed at teardown. */
  reportQueue(name?: string): ReportQueueProbe;
  /** Opens a probe of the cluster's callbacks queue (openCallbackQueue); emptied and closed at teardown. */
  callbackQueue(attempts?: number): CallbackQueueProbe;
  /** Adds a step to the teardown, for something else the suite opened; the last added runs first. */
  onTeardown(step: () => unknown): void;
}

/**
 * The one fixture for suites that need a running cluster. Call it in a describe block: it registers the block's
 * beforeAll, which starts the cluster (and the suite's own Redis and restartable S3 when asked), and its afterAll,
 * which tears down whatever did start, in this order:
 *   1. kills the app processes started with spawn();
 *   2. brings back a Redis or S3 server a test left stopped (the queues close through Redis);
 *   3. closes the webhook receivers (a held request would otherwise hold up the notifier's close);
 *   4. marks unfinished reports ABORTED (a running report would hold up the in-process worker's close);
 *   5. runs the suite's own teardown steps and closes its probes, the last added first;
 *   6. closes the cluster: notifier, worker, API, database (dropped), S3 server;
 *   7. stops the suite's Redis server.
 * A step that fails does not keep the later ones from running; the afterAll then fails with every error.
 * Hooks the suite declares after this call run after the cluster has started (beforeAll) and after it was torn
 * down (afterAll): whatever a suite opens goes through spawn, receiver, the probes or onTeardown.
 */
export function useReportCluster(options: ReportClusterFixtureOptions = {}): ReportClusterFixture {
  const { ownRedis = false, restartableS3 = false, setupTimeoutMs = 60_000, teardownTimeoutMs = 60_000, ...clusterOptions } = options;
  let cluster: ReportCluster | undefined;
  let redisServer: TestRedisServer | undefined;
  let s3: RestartableS3 | undefined;
  const processes: AppProcess[] = [];
  const receivers: WebhookReceiver[] = [];
  const steps: (() => unknown)[] = [];

  const running = (): ReportCluster => {
    if (!cluster) throw new Error('the report cluster is not running: its setup failed (see the beforeAll error) or has not run yet');
    return cluster;
  };

  beforeAll(async () => {
    if (ownRedis) redisServer = await startTestRedisServer();
    if (restartableS3) s3 = await startRestartableS3();
    cluster = await startReportCluster({ ...clusterOptions, redisUrl: redisServer?.url, s3 });
  }, setupTimeoutMs);

  afterAll(async () => {
    const errors: unknown[] = [];
    const attempt = async (step: () => unknown) => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    for (const process of [...processes].reverse()) await attempt(() => process.kill());
    if (redisServer && !redisServer.running) await attempt(() => redisServer!.start());
    if (s3 && !s3.running) await attempt(() => s3!.start());
    for (const receiver of [...receivers].reverse()) await attempt(() => receiver.close());
    if (cluster) await attempt(() => abortUnfinishedReports(cluster!.services.db.pool));
    for (const step of [...steps].reverse()) await attempt(step);
    if (cluster) await attempt(() => cluster!.close());
    // Started, but not handed to a cluster that started (closing it twice is harmless).
    else if (s3) await attempt(() => s3!.close());
    if (redisServer) await attempt(() => redisServer!.close());
    cluster = undefined;
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `the report cluster's teardown failed ${errors.length} times: ${errors.map(String).join('; ')}`);
  }, teardownTimeoutMs);

  return {
    get services() {
      return running().services;
    },
    get api() {
      return running().api;
    },
    get logger() {
      return running().logger;
    },
    get redisServer() {
      if (!redisServer) throw new Error(ownRedis ? 'the Redis server did not start' : 'this cluster has no Redis server of its own: useReportCluster({ ownRedis: true })');
      return redisServer;
    },
    get s3() {
      if (!s3) throw new Error(restartableS3 ? 'the S3 server did not start' : 'this cluster has no restartable S3 server: useReportCluster({ restartableS3: true })');
      return s3;
    },
    account: (id, parentId) => running().account(id, parentId),
    load: (records) => running().load(records),
    request: (method, url, key, body, headers) => running().request(method, url, key, body, headers),
    createReport: (key, body) => running().createReport(key, body),
    waitForStatus: (key, id, statuses, timeoutMs) => running().waitForStatus(key, id, statuses, timeoutMs),
    download: (report) => running().download(report),
    objectKeys: (prefix) => running().objectKeys(prefix),
    startWorker: (workerOptions) => running().startWorker(workerOptions),
    stopWorker: () => running().stopWorker(),
    startNotifier: () => running().startNotifier(),
    stopNotifier: () => running().stopNotifier(),
    spawn(app, env = {}) {
      const process = new AppProcess(app, running().services.env(env));
      processes.push(process);
      return process;
    },
    async receiver(answer) {
      const receiver = await startWebhookReceiver(answer);
      receivers.push(receiver);
      return receiver;
    },
    reportQueue(name) {
      const probe = openReportQueue(running().services.prefix, running().services.redisUrl, name);
      steps.push(() => probe.close());
      return probe;
    },
    callbackQueue(attempts) {
      const probe = openCallbackQueue(running().services.prefix, attempts, running().services.redisUrl);
      steps.push(() => probe.close());
      return probe;
    },
    onTeardown(step) {
      steps.push(step);
    },
  };
}
