import { isAbortError } from './abort';
import { DestinationError, type DestinationStep } from './destination.port';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks) as ssh2 puts them on `code`. */
export const SFTP_STATUS = { NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, NO_CONNECTION: 6, CONNECTION_LOST: 7, OP_UNSUPPORTED: 8 } as const;

interface SshErrorFields {
  code?: unknown;
  level?: unknown;
  message?: unknown;
}

function fieldsOf(error: unknown): SshErrorFields {
  return typeof error === 'object' && error !== null ? (error as SshErrorFields) : {};
}

export function sftpStatus(error: unknown): number | undefined {
  const { code } = fieldsOf(error);
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  const { message } = fieldsOf(error);
  return typeof message === 'string' ? message : String(error);
}

/**
 * A failure of an SFTP operation on `path` as a DestinationError, by status code. `connectionLost` says the SSH
 * connection is gone, which makes any failure a retryable 'connect' one. An abort and errors that are not the
 * server's (the body stream's own) are the caller's to keep: this is only called with the server's.
 */
export function toSftpDestinationError(step: Extract<DestinationStep, 'write' | 'read' | 'delete'>, error: unknown, path: string, connectionLost: boolean): unknown {
  if (isAbortError(error) || error instanceof DestinationError) return error;
  const fail = (failedStep: DestinationStep, message: string, retryable: boolean) => new DestinationError(failedStep, message, { retryable, cause: error });
  const status = sftpStatus(error);
  if (connectionLost || status === SFTP_STATUS.NO_CONNECTION || status === SFTP_STATUS.CONNECTION_LOST) {
    return fail('connect', `the SFTP connection was lost (${messageOf(error)})`, true);
  }
  switch (status) {
    case SFTP_STATUS.NO_SUCH_FILE:
      return fail(step, `no such file or directory on the SFTP server: ${path}`, false);
    case SFTP_STATUS.PERMISSION_DENIED:
      return fail(step, `the SFTP server denied ${step} access to ${path}`, false);
    case SFTP_STATUS.OP_UNSUPPORTED:
      return fail(step, `the SFTP server does not support this operation on ${path} (${messageOf(error)})`, false);
    default:
      // FAILURE is SFTP's catch-all (a full disk, a quota, a file in the way); another attempt may go through.
      return fail(step, `the SFTP server failed to ${step} ${path} (${messageOf(error)})`, true);
  }
}

/**
 * A failure to connect, by ssh2's `level`: refused credentials are not retryable, network trouble is. A rejected
 * host key is reported by the caller, which knows the fingerprints.
 */
export function toSftpConnectError(error: unknown, where: string): DestinationError {
  const { level } = fieldsOf(error);
  const message = messageOf(error);
  if (level === 'client-authentication') {
    return new DestinationError('authenticate', `the SFTP server at ${where} refused the credentials (${message})`, { retryable: false, cause: error });
  }
  if (level === 'client-socket' || level === 'client-timeout' || level === 'client-dns') {
    return new DestinationError('connect', `could not connect to the SFTP server at ${where} (${message})`, { retryable: true, cause: error });
  }
  // A handshake or protocol failure (no algorithm in common, not an SSH server): retrying will not change it.
  return new DestinationError('connect', `the SSH handshake with ${where} failed (${message})`, { retryable: false, cause: error });
}
