import { ConfigError, parseConfig, parseCalendarPeriod, parseDuration, subtractPeriod } from '@cdr-reports/config';

describe('parseConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'postgres://127.0.0.1:5432/cdr_reports',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'cdr-reports',
      port: 8080,
      s3Endpoint: undefined,
      s3Bucket: 'cdr-reports',
      embeddedS3Port: 4569,
      embeddedS3Dir: '.data/s3',
      reportTtlMs: 72 * 3_600_000,
      cdrRetention: { months: 13, days: 0 },
      callbackAllowedNetworks: [],
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = parseConfig({
      DATABASE_URL: 'postgresql://db.internal:5433/cdr',
      REDIS_URL: 'rediss://cache:6380',
      QUEUE_PREFIX: '{cdr}',
      PORT: '9000',
      S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
      S3_BUCKET: 'my.reports-bucket',
      EMBEDDED_S3_PORT: '4570',
      EMBEDDED_S3_DIR: '/tmp/s3',
      REPORT_TTL: '90s',
      CDR_RETENTION: '400 days',
      CALLBACK_ALLOWED_NETWORKS: '10.0.0.0/8, fd00::/8',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).toMatchObject({
      databaseUrl: 'postgresql://db.internal:5433/cdr',
      redisUrl: 'rediss://cache:6380',
      queuePrefix: '{cdr}',
      port: 9000,
      s3Endpoint: 'https://s3.eu-west-1.amazonaws.com',
      s3Bucket: 'my.reports-bucket',
      embeddedS3Port: 4570,
      embeddedS3Dir: '/tmp/s3',
      reportTtlMs: 90_000,
      cdrRetention: { months: 0, days: 400 },
      callbackAllowedNetworks: ['10.0.0.0/8', 'fd00::/8'],
      logLevel: 'debug',
    });
  });

  it.each([
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['PORT', '0'],
    ['PORT', '80a'],
    ['PORT', '70000'],
    ['S3_ENDPOINT', 'ftp://s3'],
    ['S3_BUCKET', 'Upper_Case'],
    ['EMBEDDED_S3_PORT', '-1'],
    ['REPORT_TTL', '72'],
    ['REPORT_TTL', '3 days'],
    ['REPORT_TTL', '8d'],
    ['CDR_RETENTION', 'forever'],
    ['CALLBACK_ALLOWED_NETWORKS', '10.0.0.0'],
    ['CALLBACK_ALLOWED_NETWORKS', '10.0.0.0/33'],
    ['CALLBACK_ALLOWED_NETWORKS', 'example.com/8'],
    ['LOG_LEVEL', 'verbose'],
    ['QUEUE_PREFIX', 'has space'],
  ])('rejects %s=%j with a message naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(new RegExp(`${name}: `));
  });

  it('reports every bad variable at once', () => {
    try {
      parseConfig({ PORT: 'x', REPORT_TTL: 'soon' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'REPORT_TTL']);
    }
  });

  it('requires S3 credentials in pairs', () => {
    expect(() => parseConfig({ S3_ACCESS_KEY_ID: 'AKIA' })).toThrow(/S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
  });
});

describe('durations and periods', () => {
  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('72h')).toBe(259_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('0s')).toBeUndefined();
    expect(parseDuration('-5m')).toBeUndefined();
    expect(parseDuration('5 m')).toBeUndefined();
  });

  it('parses calendar periods', () => {
    expect(parseCalendarPeriod('13 months')).toEqual({ months: 13, days: 0 });
    expect(parseCalendarPeriod('1 month')).toEqual({ months: 1, days: 0 });
    expect(parseCalendarPeriod('2 years')).toEqual({ months: 24, days: 0 });
    expect(parseCalendarPeriod('30d')).toEqual({ months: 0, days: 30 });
    expect(parseCalendarPeriod('0 months')).toBeUndefined();
  });

  it('subtracts calendar months in UTC', () => {
    expect(subtractPeriod(new Date('2026-11-21T10:00:00Z'), { months: 13, days: 0 }).toISOString()).toBe('2025-10-21T10:00:00.000Z');
    expect(subtractPeriod(new Date('2026-03-01T00:00:00Z'), { months: 0, days: 1 }).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });
});

describe('destination settings', () => {
  const key = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');
  /** The problems a ConfigError lists for `env`; fails when parseConfig accepts it. */
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      parseConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(Object.keys(env))}`);
  };

  it('reads a ring of two secret keys, the sealing key first, each 32 bytes', () => {
    const config = parseConfig({ DESTINATION_SECRET_KEYS: ` k2:${key(2)} , k1:${key(1)} ` });
    expect(config.destinationSecretKeys).toEqual([
      { id: 'k2', key: Buffer.alloc(32, 2) },
      { id: 'k1', key: Buffer.alloc(32, 1) },
    ]);
  });

  it('leaves the ring unset without DESTINATION_SECRET_KEYS outside production (a local key file is used)', () => {
    expect(parseConfig({}).destinationSecretKeys).toBeUndefined();
    expect(parseConfig({ NODE_ENV: 'development' }).destinationSecretKeys).toBeUndefined();
    expect(parseConfig({}).destinationSecretKeyFile).toBe('.data/destination-secret.key');
  });

  it.each([
    ['an id with a space', `k 1:${key(1)}`],
    ['an id with a dot', `k.1:${key(1)}`],
    ['an empty id', `:${key(1)}`],
    ['an id of 33 characters', `${'k'.repeat(33)}:${key(1)}`],
    ['no key at all', 'k1'],
    ['a key of 16 bytes', `k1:${key(1, 16)}`],
    ['a key of 33 bytes', `k1:${key(1, 33)}`],
    ['one good key and one short', `k2:${key(2)},k1:${key(1, 31)}`],
    ['a third field', `k1:${key(1)}:extra`],
    ['no entry', ' , '],
  ])('refuses DESTINATION_SECRET_KEYS with %s, naming the variable and never the key', (_case, value) => {
    const problems = problemsOf({ DESTINATION_SECRET_KEYS: value });
    expect(problems.length).toBeGreaterThanOrEqual(1);
    for (const problem of problems) {
      expect(problem).toMatch(/^DESTINATION_SECRET_KEYS: /);
      for (const material of [key(1), key(1, 16), key(1, 33), key(1, 31)]) expect(problem).not.toContain(material);
    }
  });

  it('refuses DESTINATION_SECRET_KEYS naming one id twice (a ring could not tell which key opens)', () => {
    const problems = problemsOf({ DESTINATION_SECRET_KEYS: `k1:${key(1)},k1:${key(2)}` });
    expect(problems).toEqual([expect.stringMatching(/^DESTINATION_SECRET_KEYS: .*k1/)]);
  });

  it('refuses to start in production without DESTINATION_SECRET_KEYS, naming it; starts with it', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^DESTINATION_SECRET_KEYS: required when NODE_ENV is production/)]);
    expect(parseConfig({ NODE_ENV: 'production', DESTINATION_SECRET_KEYS: `k1:${key(1)}` }).destinationSecretKeys).toHaveLength(1);
    // Listed with the other bad variables, not instead of them.
    expect(problemsOf({ NODE_ENV: 'production', PORT: 'x' }).map((p) => p.split(':')[0]).sort()).toEqual(['DESTINATION_SECRET_KEYS', 'PORT']);
  });

  it.each([
    ['100ms', 100],
    ['2s', 2_000],
    ['15s', 15_000],
    ['1h', 3_600_000],
  ])('accepts DELIVERY_RETRY_BASE=%s', (value, ms) => {
    expect(parseConfig({ DELIVERY_RETRY_BASE: value }).deliveryRetryBaseMs).toBe(ms);
  });

  it('defaults DELIVERY_RETRY_BASE to 15s', () => {
    expect(parseConfig({}).deliveryRetryBaseMs).toBe(15_000);
  });

  it.each(['99ms', '0s', '1h1s', '2h', '15', 'soon', '-5s'])('refuses DELIVERY_RETRY_BASE=%s, naming the variable', (value) => {
    expect(problemsOf({ DELIVERY_RETRY_BASE: value })).toEqual([expect.stringMatching(/^DELIVERY_RETRY_BASE: .*100ms to 1h/)]);
  });

  it('lets destinations reach what callbacks may unless DESTINATION_ALLOWED_NETWORKS says otherwise', () => {
    expect(parseConfig({}).destinationAllowedNetworks).toEqual([]);
    expect(parseConfig({ CALLBACK_ALLOWED_NETWORKS: '10.0.0.0/8, fd00::/8' }).destinationAllowedNetworks).toEqual(['10.0.0.0/8', 'fd00::/8']);
    const own = parseConfig({ CALLBACK_ALLOWED_NETWORKS: '10.0.0.0/8', DESTINATION_ALLOWED_NETWORKS: '192.168.10.0/24,127.0.0.0/8' });
    expect(own).toMatchObject({ callbackAllowedNetworks: ['10.0.0.0/8'], destinationAllowedNetworks: ['192.168.10.0/24', '127.0.0.0/8'] });
    // Blank counts as unset: the callbacks' networks again.
    expect(parseConfig({ CALLBACK_ALLOWED_NETWORKS: '10.0.0.0/8', DESTINATION_ALLOWED_NETWORKS: ' ' }).destinationAllowedNetworks).toEqual(['10.0.0.0/8']);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'example.com/8', '10.0.0.0/8/1'])('refuses DESTINATION_ALLOWED_NETWORKS=%s, naming the variable', (value) => {
    expect(problemsOf({ DESTINATION_ALLOWED_NETWORKS: value })).toEqual([expect.stringMatching(/^DESTINATION_ALLOWED_NETWORKS: /)]);
  });

  it.each([
    ['DELIVERY_CONCURRENCY', '4', 4],
    ['DELIVERY_CONCURRENCY', '256', 256],
  ])('reads %s=%s', (name, value, expected) => {
    expect(parseConfig({ [name]: value }).deliveryConcurrency).toBe(expected);
  });

  it.each(['0', '257', 'x'])('refuses DELIVERY_CONCURRENCY=%s', (value) => {
    expect(problemsOf({ DELIVERY_CONCURRENCY: value })).toEqual([expect.stringMatching(/^DELIVERY_CONCURRENCY: /)]);
  });
});
