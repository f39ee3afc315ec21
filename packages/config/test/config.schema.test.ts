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
