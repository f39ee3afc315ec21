import {
  DatabaseUnavailableError,
  ExportIntegrityError,
  RequestRejectedError,
  StorageUnavailableError,
  UnrecoverableJobError,
  describeFailure,
  isRetryable,
} from '../src/errors';

/** The report's error as its class says it: adapters translate their failures into these classes at their boundary. */
describe('describeFailure', () => {
  it('names the storage for a storage failure, whatever its cause', () => {
    const s3Down = new StorageUnavailableError('PutObject failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED' }) });
    expect(describeFailure(s3Down)).toEqual({ code: 'STORAGE_UNAVAILABLE', message: 'the report file could not be stored; create the report again later' });
    expect(isRetryable(s3Down)).toBe(true);
  });

  it('names the CDR store for a database connection failure', () => {
    const down = new DatabaseUnavailableError('the CDR store is unreachable');
    expect(describeFailure(down)).toEqual({ code: 'DATABASE_UNAVAILABLE', message: 'the CDR store could not be read; create the report again later' });
    expect(isRetryable(down)).toBe(true);
  });

  it('tells a request the database refuses (no retry) from an integrity failure and any other error (retried)', () => {
    const rejected = new RequestRejectedError('invalid value for parameter "TimeZone"');
    expect(describeFailure(rejected)).toEqual({ code: 'INVALID_REQUEST', message: 'the database rejected the request: invalid value for parameter "TimeZone"' });
    expect(isRetryable(rejected)).toBe(false);
    expect(describeFailure(new ExportIntegrityError('counts disagree'))).toEqual({ code: 'INTEGRITY_CHECK_FAILED', message: 'counts disagree' });
    expect(isRetryable(new ExportIntegrityError('counts disagree'))).toBe(true);
    expect(describeFailure(new Error('boom'))).toEqual({ code: 'EXPORT_FAILED', message: 'the report could not be built: boom' });
    expect(isRetryable(new Error('boom'))).toBe(true);
    expect(isRetryable(new UnrecoverableJobError('bad payload'))).toBe(false);
  });

  it('never reads the message: an error that only sounds like a storage or database failure is EXPORT_FAILED', () => {
    expect(describeFailure(new Error('S3 bucket socket ECONNRESET')).code).toBe('EXPORT_FAILED');
    expect(describeFailure(Object.assign(new Error('Connection terminated'), { code: '57P01' })).code).toBe('EXPORT_FAILED');
  });
});
