import { isAbortError } from './abort';
import { DestinationError, type DestinationStep } from './destination.port';

type S3Operation = Extract<DestinationStep, 'write' | 'read' | 'delete'>;

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The credentials themselves were refused (unknown key id, wrong secret, expired session). */
const AUTHENTICATION_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidClientTokenId']);
/** The credentials are valid but may not do this: a bucket policy or IAM policy for the customer to fix. */
const PERMISSION_CODES = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem']);
/** The bucket is elsewhere than configured (wrong region or endpoint). */
const ADDRESSING_CODES = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
/** Node's codes for a connection that could not be made or broke off. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN']);
const MAX_CAUSE_DEPTH = 4;

function fieldsOf(error: unknown): ErrorFields | undefined {
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : undefined;
}

/** A DestinationError raised below the SDK (the guarded lookup refusing an address), found in the cause chain. */
function destinationErrorIn(error: unknown, depth = 0): DestinationError | undefined {
  if (error instanceof DestinationError) return error;
  const cause = fieldsOf(error)?.cause;
  return cause === undefined || depth >= MAX_CAUSE_DEPTH ? undefined : destinationErrorIn(cause, depth + 1);
}

/** The network error (a Node socket error, the SDK's connection or socket timeout) in the cause chain, if any. */
function networkFailureIn(error: unknown, depth = 0): ErrorFields | undefined {
  const fields = fieldsOf(error);
  if (!fields || depth > MAX_CAUSE_DEPTH) return undefined;
  if (typeof fields.code === 'string' && NETWORK_CODES.has(fields.code)) return fields;
  // The SDK's HTTP handler names its connection and socket timeouts so; DOMException's is a caller's AbortSignal.timeout().
  if (fields.name === 'TimeoutError' && !(error instanceof DOMException)) return fields;
  return networkFailureIn(fields.cause, depth + 1);
}

function describe(fields: ErrorFields): string {
  const id = [fields.Code, fields.code, fields.name].find((value): value is string => typeof value === 'string' && value !== '' && value !== 'Error') ?? 'Error';
  const text = typeof fields.message === 'string' ? fields.message.slice(0, 200) : '';
  return text === '' || text === id || text === 'UnknownError' ? id : `${id}: ${text}`;
}

/**
 * The one translation of S3 failures into DestinationErrors, by the S3 error code and HTTP status, never by the
 * message. An abort, and errors that are not the storage's (the body stream's own failure), are returned as they are.
 */
export function toS3DestinationError(operation: S3Operation, error: unknown, where: { bucket: string; key: string }): unknown {
  if (isAbortError(error)) return error;
  const inner = destinationErrorIn(error);
  if (inner) return inner;
  const fields = fieldsOf(error);
  if (!fields) return error;
  const code = typeof fields.Code === 'string' ? fields.Code : typeof fields.name === 'string' ? fields.name : '';
  const status = typeof fields.$metadata?.httpStatusCode === 'number' ? fields.$metadata.httpStatusCode : undefined;
  const detail = describe(fields);
  const fail = (step: DestinationStep, message: string, retryable: boolean) => new DestinationError(step, message, { retryable, cause: error });

  if (AUTHENTICATION_CODES.has(code)) return fail('authenticate', `S3 refused the credentials (${detail})`, false);
  if (PERMISSION_CODES.has(code)) return fail(operation, `S3 denied ${operation} access to s3://${where.bucket}/${where.key} with these credentials (${detail})`, false);
  // A HEAD answer has no body, so no code: a bare 403 is the credentials.
  if (status === 403) return fail('authenticate', `S3 refused the request (${detail})`, false);
  if (code === 'NoSuchBucket') return fail(operation, `the bucket ${where.bucket} does not exist (${detail})`, false);
  if (ADDRESSING_CODES.has(code) || status === 301) return fail('connect', `the bucket ${where.bucket} is not at this endpoint or region (${detail})`, false);
  if (code === 'NoSuchKey' || status === 404) return fail(operation, `no file at s3://${where.bucket}/${where.key}`, false);
  const network = networkFailureIn(error);
  // The socket's own error says what happened (the SDK wraps it in "AWS SDK error wrapper for ...").
  if (network) return fail('connect', `could not reach S3 (${typeof network.message === 'string' ? network.message : describe(network)})`, true);
  if (status !== undefined && (status >= 500 || status === 429 || code === 'SlowDown' || code === 'RequestTimeout')) {
    return fail(operation, `S3 failed to ${operation} (${detail}); it may succeed later`, true);
  }
  if (status !== undefined) return fail(operation, `S3 refused to ${operation} s3://${where.bucket}/${where.key} (${detail})`, false);
  // An SDK error without an answer (every SDK error carries $metadata): the connection, most likely.
  if (fields.$metadata !== undefined) return fail('connect', `could not reach S3 (${detail})`, true);
  return error;
}
