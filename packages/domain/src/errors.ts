/**
 * The error taxonomy, defined once. Packages throw these; the API maps them to HTTP in one place,
 * and job processors map them to "fail now" or "retry".
 */

export interface InvalidParam {
  /** The field, as the caller named it (a body field, a query parameter, a header). */
  name: string;
  reason: string;
}

/** Bad input from a caller: 400 (or 422), logged at info. */
export class ValidationError extends Error {
  constructor(
    readonly invalidParams: InvalidParam[],
    message = invalidParams.map((p) => `${p.name}: ${p.reason}`).join('; '),
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** The caller is authenticated but may not do this: 403. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** No such resource, or one the caller cannot see: 404. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The resource is in a state that does not allow this: 409. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/**
 * Why a report failed, as its `error.code` tells the caller: what went wrong and whether asking again may help.
 * Adapters (PostgreSQL, S3) translate their failures into the classes below at their boundary; the report
 * runner decides retry or give up by class alone.
 */
export type ReportFailureCode = 'INVALID_REQUEST' | 'DATABASE_UNAVAILABLE' | 'STORAGE_UNAVAILABLE' | 'INTEGRITY_CHECK_FAILED' | 'EXPORT_FAILED';

/** A job failure that no retry can fix: fail the job now. */
export class UnrecoverableJobError extends Error {
  override name = 'UnrecoverableJobError';
  constructor(
    message: string,
    readonly code: ReportFailureCode = 'EXPORT_FAILED',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A passing failure (network, lock, throttling): retry with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    message: string,
    readonly code: ReportFailureCode = 'EXPORT_FAILED',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The CDR store (PostgreSQL) could not be reached or dropped the connection: retry. */
export class DatabaseUnavailableError extends TransientError {
  override name = 'DatabaseUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'DATABASE_UNAVAILABLE', options);
  }
}

/** The object store (S3) could not be reached or refused the call: retry. */
export class StorageUnavailableError extends TransientError {
  override name = 'StorageUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'STORAGE_UNAVAILABLE', options);
  }
}

/** The CDR store refuses the request itself (a time zone it cannot render...): the same every time, no retry. */
export class RequestRejectedError extends UnrecoverableJobError {
  override name = 'RequestRejectedError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'INVALID_REQUEST', options);
  }
}

/**
 * The file and its summary disagree: a bug or a changed snapshot, never to be presented as complete. Retried,
 * since a new attempt reads a new snapshot.
 */
export class ExportIntegrityError extends TransientError {
  override name = 'ExportIntegrityError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'INTEGRITY_CHECK_FAILED', options);
  }
}

/** The work was cancelled through its abort signal (a DELETE, or the worker handing it back): not a failure. */
export class AbortedError extends Error {
  override name = 'AbortError';
}

/** Whether a failed attempt may succeed when tried again: only a class says it. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof UnrecoverableJobError);
}

/** A failure in terms a user can act on, decided by the error's class (see the adapters' translations). */
export function describeFailure(error: unknown): { code: ReportFailureCode; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DatabaseUnavailableError) return { code: error.code, message: 'the CDR store could not be read; create the report again later' };
  if (error instanceof StorageUnavailableError) return { code: error.code, message: 'the report file could not be stored; create the report again later' };
  if (error instanceof RequestRejectedError) return { code: error.code, message: `the database rejected the request: ${message}` };
  if (error instanceof ExportIntegrityError) return { code: error.code, message };
  return { code: 'EXPORT_FAILED', message: `the report could not be built: ${message.slice(0, 300)}` };
}
