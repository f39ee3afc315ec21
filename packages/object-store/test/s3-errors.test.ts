import { S3ServiceException } from '@aws-sdk/client-s3';
import { StorageUnavailableError } from '@cdr-reports/domain';
import { isStorageFailure, toStorageError } from '../src/s3-errors';

/** An error as the SDK's deserializer builds it from an S3 error answer. */
function s3Answer(code: string, message: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name: code, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message });
}

function networkError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('toStorageError', () => {
  it('turns an S3 error answer into StorageUnavailableError naming the operation and the S3 code', () => {
    const answer = s3Answer('NoSuchBucket', 'The specified bucket does not exist', 404);
    const translated = toStorageError('GetObject', answer);
    expect(translated).toBeInstanceOf(StorageUnavailableError);
    expect(translated).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: 'S3 GetObject failed: NoSuchBucket (The specified bucket does not exist)',
      cause: answer,
    });
    expect(toStorageError('upload', s3Answer('SlowDown', 'Please reduce your request rate.', 503))).toBeInstanceOf(StorageUnavailableError);
  });

  it('turns network errors into StorageUnavailableError by their code, with or without the SDK metadata', () => {
    const refused = Object.assign(networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4569'), { $metadata: { attempts: 3 } });
    expect(toStorageError('HeadObject', refused)).toMatchObject({ message: 'S3 HeadObject failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:4569)' });
    // Read off a response stream, where the SDK adds nothing.
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
      expect(toStorageError('GetObject', networkError(code, 'socket hang up'))).toBeInstanceOf(StorageUnavailableError);
    }
    const timedOut = Object.assign(new Error('the request socket timed out'), { name: 'TimeoutError' });
    expect(toStorageError('GetObject', timedOut)).toBeInstanceOf(StorageUnavailableError);
    const wrapped = new Error('request failed', { cause: networkError('ECONNRESET', 'read ECONNRESET') });
    expect(toStorageError('GetObject', wrapped)).toBeInstanceOf(StorageUnavailableError);
  });

  it('leaves aborts, our own errors and everything else as they are', () => {
    const aborted = Object.assign(new Error('upload aborted'), { name: 'AbortError' });
    const sdkAborted = Object.assign(new Error('Request aborted'), { name: 'AbortError', $metadata: {} });
    const timeoutSignal = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const ours = new RangeError('partSize must be at least 5 MiB');
    // Classified by code, never by what the message says.
    const wordy = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    for (const error of [aborted, sdkAborted, timeoutSignal, ours, wordy, 'a string', undefined]) {
      expect(toStorageError('upload', error)).toBe(error);
      expect(isStorageFailure(error)).toBe(false);
    }
  });

  it('translates once', () => {
    const translated = toStorageError('upload', s3Answer('InternalError', 'We encountered an internal error.', 500));
    expect(toStorageError('upload', translated)).toBe(translated);
  });
});
