import { isIP } from 'node:net';
import { parseCalendarPeriod, parseDuration, parseDurationList, type CalendarPeriod } from './duration';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The whole configuration of every app, parsed once at start-up from the environment. */
export interface Config {
  /** Where accounts, keys, reports and the CDR store live. The database is created if missing. */
  databaseUrl: string;
  /** BullMQ and rate-limit state. Must run with maxmemory-policy noeviction. */
  redisUrl: string;
  /** Prefix of every BullMQ key; wrap it in {braces} for Redis Cluster so a queue stays on one slot. */
  queuePrefix: string;
  /** HTTP port of the API. */
  port: number;
  /** Port of the worker's and the notifier's /metrics, /healthz and /readyz (the API serves them on PORT); 0 picks a free one. */
  metricsPort: number;
  /** Bearer token (or Basic password) of the queue dashboard at /admin/queues; unset turns the dashboard off. */
  adminToken: string | undefined;
  /** S3 endpoint; unset means the embedded S3-compatible server is started and used. */
  s3Endpoint: string | undefined;
  s3Bucket: string;
  s3Region: string;
  /**
   * The S3 address that download links point at, when callers reach S3 by another name than the apps do
   * (docker compose: the apps use http://minio:9000, browsers http://localhost:9000). Default: the S3 endpoint.
   */
  s3PublicEndpoint: string | undefined;
  /** Credentials for S3_ENDPOINT; unset falls back to the AWS SDK's default provider chain. */
  s3AccessKeyId: string | undefined;
  s3SecretAccessKey: string | undefined;
  /** Port and folder of the embedded S3 server, used only when S3_ENDPOINT is unset. */
  embeddedS3Port: number;
  embeddedS3Dir: string;
  /** How long a finished report file can be downloaded, in milliseconds. */
  reportTtlMs: number;
  /** How far back CDRs are kept (and can be reported on). */
  cdrRetention: CalendarPeriod;
  /** Networks (CIDR) that callbacks may reach although private; for on-premises receivers and tests. */
  callbackAllowedNetworks: string[];
  logLevel: LogLevel;
  /** zlib level (1-9) of report files; 3 is within 5% of gzip -6's size at about twice its speed. */
  reportCompressionLevel: number;
  /** Reports of the standard lane one worker process builds at once. */
  reportWorkerConcurrency: number;
  /** A report whose estimated rows exceed this goes to the large lane. */
  reportLargeRows: number;
  /** Reports of the large lane one worker process builds at once (each uses about a core and a half). */
  reportLargeConcurrency: number;
  /** A gzip report whose estimated rows exceed this is fanned out into time segments that any worker can take. */
  reportFanOutRows: number;
  /** Rows per segment aimed at when fanning out (2 to 64 segments). */
  reportSegmentRows: number;
  /** Segments one worker process exports at once. */
  reportSegmentConcurrency: number;
  /** At most this many reports of one account run at once, across the cluster; the others wait PENDING. */
  reportAccountConcurrency: number;
  /**
   * How long a job's lock lasts unless renewed (milliseconds). A killed worker's job is taken over by another
   * worker after about this long; too short a lock makes jobs stall under load.
   */
  jobLockMs: number;
  /**
   * How long a graceful stop (SIGTERM) may take (milliseconds). A worker finishes its running reports within it
   * or, near its end, hands them back to the queue for another worker; then it exits 0.
   */
  shutdownTimeoutMs: number;
  /** POST /v1/reports one API key may make per second, across all API instances; 0: no limit. */
  rateLimitReportCreations: number;
  /** Other /v1 requests one API key may make per second, counted together; 0: no limit. */
  rateLimitRequests: number;
  /** Delay before each callback attempt, the first one included (milliseconds); its length is the number of attempts. */
  callbackRetrySchedule: number[];
  /** One callback attempt, connect to last byte read (milliseconds). */
  callbackTimeoutMs: number;
  /** Callback deliveries one notifier process makes at once. */
  callbackConcurrency: number;
  /** Of those, at most this many to one destination host, so a slow receiver cannot hold up the others. */
  callbackHostConcurrency: number;
  /**
   * Keys sealing destination secrets (AES-256-GCM), from DESTINATION_SECRET_KEYS: `id:base64,id:base64`, 32
   * bytes each. The first seals; every one opens, so a key is rotated by putting a new one first and keeping the
   * old until the destinations are saved again. Unset: a local key in DESTINATION_SECRET_KEY_FILE (created when
   * missing), refused when NODE_ENV is production.
   */
  destinationSecretKeys: Array<{ id: string; key: Buffer }> | undefined;
  destinationSecretKeyFile: string;
  /** Networks (CIDR) destinations may reach although private (default: CALLBACK_ALLOWED_NETWORKS). */
  destinationAllowedNetworks: string[];
  /** Delay before a delivery's first retry (milliseconds); each next one doubles, 8 retries (15s: about an hour). */
  deliveryRetryBaseMs: number;
  /** Deliveries one worker process makes at once. */
  deliveryConcurrency: number;
}

export type Environment = Record<string, string | undefined>;

/** Thrown when the environment holds a bad value; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseConfig(env: Environment): Config {
  const problems: string[] = [];
  const read = (name: string, fallback: string): string => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? fallback : value.trim();
  };
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const value = read(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name}: must be a ${protocols.join(' or ')} URL, got "${value}"`);
      }
    } catch {
      problems.push(`${name}: not a valid URL: "${value}"`);
    }
    return value;
  };
  const port = (name: string, fallback: number): number => {
    const value = read(name, String(fallback));
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < 1 || parsed > 65535) {
      problems.push(`${name}: must be a port number from 1 to 65535, got "${value}"`);
      return fallback;
    }
    return parsed;
  };

  const s3Endpoint = optional('S3_ENDPOINT');
  if (s3Endpoint !== undefined) url('S3_ENDPOINT', s3Endpoint, ['http:', 'https:']);
  const s3PublicEndpoint = optional('S3_PUBLIC_ENDPOINT');
  if (s3PublicEndpoint !== undefined) url('S3_PUBLIC_ENDPOINT', s3PublicEndpoint, ['http:', 'https:']);
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = read(name, String(fallback));
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  };

  const ttlText = read('REPORT_TTL', '72h');
  const reportTtlMs = parseDuration(ttlText);
  if (reportTtlMs === undefined) {
    problems.push(`REPORT_TTL: must be a duration like 90s, 15m or 72h, got "${ttlText}"`);
  } else if (reportTtlMs > 7 * 86_400_000) {
    problems.push(`REPORT_TTL: at most 7 days (the longest a presigned S3 link can live), got "${ttlText}"`);
  }

  const lockText = read('JOB_LOCK_DURATION', '30s');
  const jobLockMs = parseDuration(lockText);
  if (jobLockMs === undefined || jobLockMs < 1_000) {
    problems.push(`JOB_LOCK_DURATION: must be a duration of at least 1s, like 30s, got "${lockText}"`);
  }

  const shutdownText = read('SHUTDOWN_TIMEOUT', '25s');
  const shutdownTimeoutMs = parseDuration(shutdownText);
  if (shutdownTimeoutMs === undefined || shutdownTimeoutMs < 1_000 || shutdownTimeoutMs > 3_600_000) {
    problems.push(`SHUTDOWN_TIMEOUT: must be a duration from 1s to 1h, like 25s, got "${shutdownText}"`);
  }

  const scheduleText = read('CALLBACK_RETRY_SCHEDULE', '0s,5s,5m,30m,2h,5h,10h,14h,20h,24h');
  const callbackRetrySchedule = parseDurationList(scheduleText);
  if (callbackRetrySchedule === undefined || callbackRetrySchedule.length > 50) {
    problems.push(`CALLBACK_RETRY_SCHEDULE: must be 1-50 comma-separated durations like 0s,5s,5m,30m, got "${scheduleText}"`);
  }
  const callbackTimeoutText = read('CALLBACK_TIMEOUT', '15s');
  const callbackTimeoutMs = parseDuration(callbackTimeoutText);
  if (callbackTimeoutMs === undefined || callbackTimeoutMs > 120_000) {
    problems.push(`CALLBACK_TIMEOUT: must be a duration up to 2m, like 15s, got "${callbackTimeoutText}"`);
  }

  const retentionText = read('CDR_RETENTION', '13 months');
  const cdrRetention = parseCalendarPeriod(retentionText);
  if (cdrRetention === undefined) {
    problems.push(`CDR_RETENTION: must be a period like "13 months", "400 days" or "2 years", got "${retentionText}"`);
  }

  /** A list of CIDR networks; each bad one is a problem (a prefix too long would otherwise fail later, at start-up). */
  const cidrList = (name: string, text: string): string[] => {
    const list = text
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    for (const network of list) {
      const [address, bits, extra] = network.split('/');
      const family = isIP(address ?? '');
      const maxBits = family === 6 ? 128 : 32;
      const prefix = Number(bits);
      if (family === 0 || extra !== undefined || !/^\d+$/.test(bits ?? '') || prefix > maxBits) {
        problems.push(`${name}: "${network}" is not a CIDR network like 10.0.0.0/8 or fd00::/8`);
      }
    }
    return list;
  };
  const networks = cidrList('CALLBACK_ALLOWED_NETWORKS', read('CALLBACK_ALLOWED_NETWORKS', ''));

  const destinationNetworksText = optional('DESTINATION_ALLOWED_NETWORKS');
  const destinationNetworks = destinationNetworksText === undefined ? networks : cidrList('DESTINATION_ALLOWED_NETWORKS', destinationNetworksText);
  const secretKeysText = optional('DESTINATION_SECRET_KEYS');
  let destinationSecretKeys: Array<{ id: string; key: Buffer }> | undefined;
  if (secretKeysText !== undefined) {
    destinationSecretKeys = [];
    for (const entry of secretKeysText.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
      const [id, encoded, extra] = entry.split(':');
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || extra !== undefined || key.length !== 32) {
        problems.push(`DESTINATION_SECRET_KEYS: each entry must be id:key with the key 32 random bytes in base64 (openssl rand -base64 32), got "${(id ?? '').slice(0, 32)}:..."`);
      } else if (destinationSecretKeys.some((known) => known.id === id)) {
        problems.push(`DESTINATION_SECRET_KEYS: the id ${id} appears twice; each key needs an id of its own`);
      } else destinationSecretKeys.push({ id, key });
    }
    if (destinationSecretKeys.length === 0) problems.push('DESTINATION_SECRET_KEYS: names no key');
  } else if (env.NODE_ENV === 'production') {
    problems.push('DESTINATION_SECRET_KEYS: required when NODE_ENV is production (id:base64 of 32 random bytes, e.g. k1:$(openssl rand -base64 32)); destination secrets are sealed with it');
  }
  const retryBaseText = read('DELIVERY_RETRY_BASE', '15s');
  const deliveryRetryBaseMs = parseDuration(retryBaseText);
  if (deliveryRetryBaseMs === undefined || deliveryRetryBaseMs < 100 || deliveryRetryBaseMs > 3_600_000) {
    problems.push(`DELIVERY_RETRY_BASE: must be a duration from 100ms to 1h, like 15s, got "${retryBaseText}"`);
  }

  const logLevel = read('LOG_LEVEL', 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const queuePrefix = read('QUEUE_PREFIX', 'cdr-reports');
  if (queuePrefix.includes(' ')) problems.push(`QUEUE_PREFIX: must not contain spaces, got "${queuePrefix}"`);

  const adminToken = optional('ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) problems.push('ADMIN_TOKEN: must be at least 16 characters (a long random string)');

  const s3Bucket = read('S3_BUCKET', 'cdr-reports');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3Bucket)) {
    problems.push(`S3_BUCKET: "${s3Bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }

  const config: Config = {
    databaseUrl: url('DATABASE_URL', 'postgres://127.0.0.1:5432/cdr_reports', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix,
    port: port('PORT', 8080),
    metricsPort: read('METRICS_PORT', '9464') === '0' ? 0 : port('METRICS_PORT', 9464),
    adminToken,
    s3Endpoint,
    s3Bucket,
    s3Region: read('S3_REGION', 'us-east-1'),
    s3PublicEndpoint,
    s3AccessKeyId: optional('S3_ACCESS_KEY_ID'),
    s3SecretAccessKey: optional('S3_SECRET_ACCESS_KEY'),
    embeddedS3Port: port('EMBEDDED_S3_PORT', 4569),
    embeddedS3Dir: read('EMBEDDED_S3_DIR', '.data/s3'),
    reportTtlMs: reportTtlMs ?? 0,
    cdrRetention: cdrRetention ?? { months: 13, days: 0 },
    callbackAllowedNetworks: networks,
    logLevel,
    reportCompressionLevel: integer('REPORT_COMPRESSION_LEVEL', 3, 1, 9),
    reportWorkerConcurrency: integer('REPORT_WORKER_CONCURRENCY', 2, 1, 64),
    reportLargeRows: integer('REPORT_LARGE_ROWS', 250_000, 0, 1e12),
    reportLargeConcurrency: integer('REPORT_LARGE_CONCURRENCY', 1, 1, 64),
    reportFanOutRows: integer('REPORT_FANOUT_ROWS', 2_000_000, 0, 1e12),
    reportSegmentRows: integer('REPORT_SEGMENT_ROWS', 1_000_000, 1, 1e12),
    reportSegmentConcurrency: integer('REPORT_SEGMENT_CONCURRENCY', 1, 1, 64),
    reportAccountConcurrency: integer('REPORT_ACCOUNT_CONCURRENCY', 5, 1, 1000),
    rateLimitReportCreations: integer('RATE_LIMIT_REPORT_CREATIONS', 5, 0, 1_000_000),
    rateLimitRequests: integer('RATE_LIMIT_REQUESTS', 10, 0, 1_000_000),
    jobLockMs: jobLockMs ?? 30_000,
    shutdownTimeoutMs: shutdownTimeoutMs ?? 25_000,
    callbackRetrySchedule: callbackRetrySchedule ?? [0],
    callbackTimeoutMs: callbackTimeoutMs ?? 15_000,
    callbackConcurrency: integer('CALLBACK_CONCURRENCY', 50, 1, 1000),
    callbackHostConcurrency: integer('CALLBACK_HOST_CONCURRENCY', 10, 1, 1000),
    destinationSecretKeys,
    destinationSecretKeyFile: read('DESTINATION_SECRET_KEY_FILE', '.data/destination-secret.key'),
    destinationAllowedNetworks: destinationNetworks,
    deliveryRetryBaseMs: deliveryRetryBaseMs ?? 15_000,
    deliveryConcurrency: integer('DELIVERY_CONCURRENCY', 4, 1, 256),
  };
  if ((config.s3AccessKeyId === undefined) !== (config.s3SecretAccessKey === undefined)) {
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
