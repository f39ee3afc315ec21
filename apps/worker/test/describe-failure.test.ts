import { describeFailure } from '../src/processors/generate-report.processor';

describe('describeFailure', () => {
  it('names the storage for an AWS SDK error, whatever its network code', () => {
    const s3Down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } });
    expect(describeFailure(s3Down).code).toBe('STORAGE_UNAVAILABLE');
  });

  it('names the CDR store for a database connection failure', () => {
    expect(describeFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })).code).toBe('DATABASE_UNAVAILABLE');
    expect(describeFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })).code).toBe('DATABASE_UNAVAILABLE');
    expect(describeFailure(new Error('Client has encountered a connection error and is not queryable')).code).toBe('DATABASE_UNAVAILABLE');
  });

  it('tells a request the database refuses from an integrity failure and any other error', () => {
    expect(describeFailure(Object.assign(new Error('invalid value for parameter "TimeZone"'), { code: '22023' })).code).toBe('INVALID_REQUEST');
    expect(describeFailure(Object.assign(new Error('counts disagree'), { name: 'ExportIntegrityError' })).code).toBe('INTEGRITY_CHECK_FAILED');
    expect(describeFailure(new Error('boom')).code).toBe('EXPORT_FAILED');
  });
});
