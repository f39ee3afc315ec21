import { StorageUnavailableError } from '@cdr-reports/domain';

/** What the AWS SDK attaches to a failed S3 call; read structurally so any SDK copy's errors match. */
interface S3ErrorShape {
  name?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The S3 error code (`NoSuchKey`, `NoSuchBucket`...) of an SDK error, or undefined for other errors. */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as S3ErrorShape;
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

export function s3HttpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as S3ErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The object (or, for HeadBucket, the bucket) does not exist. HEAD answers carry no body, so a bare 404
 * counts; a missing bucket named as such on an object call does not: that is a configuration error.
 */
export function isS3NotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  if (code === 'NoSuchBucket') return false;
  return code === 'NotFound' || code === 'NoSuchKey' || s3HttpStatus(error) === 404;
}

/** An operation the server does not implement (some S3 clones answer lifecycle calls this way). */
export function isS3Unsupported(error: unknown): boolean {
  // S3's code for this is the HTTP 501 name, so the status alone decides.
  return s3HttpStatus(error) === 501;
}

/** Node's codes for a connection that could not be made or broke off (`socket hang up` is ECONNRESET). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The name the SDK's HTTP handler gives its connection and socket timeouts (also on response streams). */
const SDK_TIMEOUT_NAME = 'TimeoutError';

/** How deep `cause` chains are followed looking for a network error. */
const MAX_CAUSE_DEPTH = 3;

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: unknown;
}

function isNetworkFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > MAX_CAUSE_DEPTH) return false;
  const { code, name, cause } = error as ErrorFields;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  // DOMException's TimeoutError is AbortSignal.timeout(): a caller's abort, not the storage's.
  if (name === SDK_TIMEOUT_NAME && !(error instanceof DOMException)) return true;
  return isNetworkFailure(cause, depth + 1);
}

/**
 * Whether a failure comes from the storage: any error of the AWS SDK (a service answer such as NoSuchBucket,
 * AccessDenied or SlowDown, and the SDK's network errors, all carry `$metadata`), or a network error of a
 * connection to it (a response stream cut off). Cancellation never does: an AbortError stays an abort.
 */
export function isStorageFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as ErrorFields).name === 'AbortError') return false;
  const metadata = (error as ErrorFields).$metadata;
  return (typeof metadata === 'object' && metadata !== null) || isNetworkFailure(error);
}

/** `NoSuchBucket (The specified bucket does not exist)`: the S3 or network code and, when it says more, the message. */
function describeStorageFailure(error: object): string {
  const { Code, code, name, message } = error as ErrorFields;
  const id = [Code, code, name].find((value): value is string => typeof value === 'string' && value !== '' && value !== 'Error') ?? 'Error';
  const text = typeof message === 'string' ? message.slice(0, 200) : '';
  return text === '' || text === id || text === 'UnknownError' ? id : `${id} (${text})`;
}

/**
 * The one translation of the adapter's failures into the domain's terms: a failure of the storage (see
 * isStorageFailure) becomes a StorageUnavailableError naming the operation, with the original as its cause;
 * anything else (an abort, a RangeError of ours, an error of the caller's stream) is returned as it is.
 * Callers check their not-found and not-supported answers first, since those are results, not failures.
 */
export function toStorageError(operation: string, error: unknown): unknown {
  if (error instanceof StorageUnavailableError || !isStorageFailure(error)) return error;
  return new StorageUnavailableError(`S3 ${operation} failed: ${describeStorageFailure(error as object)}`, { cause: error });
}

/** The bucket answered 404 to HeadBucket: a configuration error or a deleted bucket, as the domain sees it. */
export function missingBucketError(operation: string, bucket: string, cause?: unknown): StorageUnavailableError {
  return new StorageUnavailableError(`S3 ${operation} failed: NoSuchBucket (bucket ${bucket} does not exist)`, { cause });
}
