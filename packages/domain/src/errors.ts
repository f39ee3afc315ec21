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

/** A job failure that no retry can fix: fail the job now. */
export class UnrecoverableJobError extends Error {
  override name = 'UnrecoverableJobError';
}

/** A passing failure (network, lock, throttling): retry with backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
}
