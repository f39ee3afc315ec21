/** The error a cancelled write rejects with: an AbortError, whatever the signal's reason, so callers test one name. */
export function writeAborted(signal: AbortSignal): Error {
  const error = new Error('write aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
