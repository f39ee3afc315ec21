import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createApi, type ApiInstance } from '@cdr-reports/api';
import type { Config } from '@cdr-reports/config';
import { importCdrRecords } from '@cdr-reports/cdr-store';
import { AccountsRepository } from '@cdr-reports/db';
import type { CdrRecord } from '@cdr-reports/domain';
import { createLogger, type DestinationStream, type Logger } from '@cdr-reports/logging';
import { runNotifier } from '@cdr-reports/notifier';
import { runWorker, type WorkerOptions } from '@cdr-reports/worker';
import type { TestS3 } from './s3';
import { startTestServices, type TestServices } from './services';
import { waitFor } from './wait';

/** A report as the API returns it (the fields tests read most). */
export interface ReportResource {
  request_id: string;
  request_status: string;
  items_count: number | null;
  progress?: { items_processed: number; percent: number };
  summary?: Record<string, unknown> | null;
  file?: { name: string; size_bytes: number; content_type: string } | null;
  error?: { code: string; message: string } | null;
  expires_at: string | null;
  _links: { self: { href: string }; download_report?: { href: string } };
  [field: string]: unknown;
}

export interface ReportClusterOptions {
  /** Environment overrides for the apps' configuration (REPORT_TTL, JOB_LOCK_DURATION, ...). */
  env?: Record<string, string>;
  /** Start a worker in this process right away. Default true. */
  worker?: boolean;
  /** Start a notifier in this process right away. Default false. */
  notifier?: boolean;
  workerOptions?: WorkerOptions;
  /** The Redis server for the queues (a test-owned one, to restart it). Default TEST_REDIS_URL. */
  redisUrl?: string;
  /** An S3 server to use instead of a fresh one (startRestartableS3, to stop and start it); closed with the cluster. */
  s3?: TestS3;
  /** Where the API's, the worker's and the notifier's log lines go, at debug level (to read what they log). */
  logDestination?: DestinationStream;
}

/**
 * The whole report path on real services, in this process: its own database, queue prefix and S3 server,
 * the API (driven with inject) and a worker. Tests create accounts, load CDRs and call the API as a client would.
 */
export interface ReportCluster {
  services: TestServices;
  api: ApiInstance;
  logger: Logger;
  /** Creates an account and returns its API key. */
  account(id: string, parentId?: string): Promise<string>;
  /** Loads records into the CDR store through the importer. */
  load(records: CdrRecord[]): Promise<void>;
  request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, key: string, body?: unknown, headers?: Record<string, string>): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON response of any shape
  }>;
  /** POST /v1/reports, expecting 202. */
  createReport(key: string, body: Record<string, unknown>): Promise<ReportResource>;
  /** Polls GET /v1/reports/{id} until the status is one of `statuses`. */
  waitForStatus(key: string, id: string, statuses: string[], timeoutMs?: number): Promise<ReportResource>;
  /** Fetches the file through the report's presigned link. */
  download(report: ReportResource): Promise<Buffer>;
  /** The keys of the objects in the cluster's bucket under `prefix` (to check what a report left stored). */
  objectKeys(prefix: string): Promise<string[]>;
  startWorker(options?: WorkerOptions): Promise<void>;
  stopWorker(): Promise<void>;
  startNotifier(): Promise<void>;
  stopNotifier(): Promise<void>;
  close(): Promise<void>;
}

export async function startReportCluster(options: ReportClusterOptions = {}): Promise<ReportCluster> {
  const services = await startTestServices({ redisUrl: options.redisUrl, s3: options.s3 });
  const logger = options.logDestination
    ? createLogger({ app: 'test', level: 'debug', destination: options.logDestination })
    : createLogger({ app: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let config: Config;
  let api: ApiInstance;
  try {
    config = services.config(options.env);
    api = await createApi(config, logger);
  } catch (error) {
    await services.close();
    throw error;
  }
  const accounts = new AccountsRepository(services.db.pool);
  let stopWorker: (() => Promise<void>) | undefined;
  let stopNotifier: (() => Promise<void>) | undefined;

  const cluster: ReportCluster = {
    services,
    api,
    logger,
    async account(id, parentId) {
      return (await accounts.create({ name: id, id, parentId })).apiKey;
    },
    async load(records) {
      const summary = await importCdrRecords(services.db.pool, () => records);
      if (summary.status !== 'loaded') throw new Error(`test records were rejected: ${JSON.stringify(summary.errors)}`);
    },
    async request(method, url, key, body, headers = {}) {
      const response = await api.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${key}`, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      let parsed: unknown = response.body;
      try {
        parsed = response.body ? JSON.parse(response.body) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.statusCode, headers: response.headers as Record<string, string | string[] | undefined>, body: parsed };
    },
    async createReport(key, body) {
      const response = await cluster.request('POST', '/v1/reports', key, body);
      if (response.status !== 202) throw new Error(`POST /v1/reports answered ${response.status}: ${JSON.stringify(response.body)}`);
      return response.body as ReportResource;
    },
    async waitForStatus(key, id, statuses, timeoutMs = 30_000) {
      return waitFor(
        async () => {
          const response = await cluster.request('GET', `/v1/reports/${id}`, key);
          const report = response.body as ReportResource;
          return statuses.includes(report.request_status) ? report : undefined;
        },
        { timeoutMs, what: `report ${id} to reach ${statuses.join(' or ')}` },
      );
    },
    async download(report) {
      const href = report._links.download_report?.href;
      if (!href) throw new Error(`report ${report.request_id} has no download link (${report.request_status})`);
      const response = await fetch(href);
      if (!response.ok) throw new Error(`download answered ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    async objectKeys(prefix) {
      const listing = await services.s3.client.send(new ListObjectsV2Command({ Bucket: services.s3.bucket, Prefix: prefix }));
      return (listing.Contents ?? []).map((object) => object.Key!);
    },
    async startWorker(workerOptions = options.workerOptions) {
      if (stopWorker) throw new Error('a worker is already running');
      stopWorker = await runWorker(config, logger, workerOptions);
    },
    async stopWorker() {
      await stopWorker?.();
      stopWorker = undefined;
    },
    async startNotifier() {
      if (stopNotifier) throw new Error('a notifier is already running');
      stopNotifier = await runNotifier(config, logger);
    },
    async stopNotifier() {
      await stopNotifier?.();
      stopNotifier = undefined;
    },
    async close() {
      await cluster.stopNotifier();
      await cluster.stopWorker();
      await api.close();
      await services.close();
    },
  };
  try {
    if (options.worker ?? true) await cluster.startWorker();
    if (options.notifier) await cluster.startNotifier();
  } catch (error) {
    // A cluster that did not start closes what did.
    await cluster.close();
    throw error;
  }
  return cluster;
}
