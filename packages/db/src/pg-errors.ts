import pg from 'pg';
import { DatabaseUnavailableError, RequestRejectedError } from '@cdr-reports/domain';

/**
 * SQLSTATE classes that say the server is gone, going or out of room, not that the request is wrong:
 * 08 connection exception, 53 insufficient resources, 57 operator intervention (a terminated backend, a
 * shutdown, a cancelled statement), 58 system error.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58']);
/** 22 data exception: the request itself is refused (a time zone the server cannot render...), every time. */
const REJECTED_CLASSES = new Set(['22']);

/**
 * A PostgreSQL failure in the domain's terms, decided by class and code, never by message text:
 * - the server's own errors (pg's DatabaseError) by their SQLSTATE class;
 * - Node's system errors (ECONNREFUSED, ECONNRESET...: they carry `syscall`) mean the server cannot be reached;
 * - any other error on a connection the caller saw end (`connectionLost`) is that lost connection
 *   (pg reports it as a plain Error).
 * Other errors come back unchanged: constraint violations stay for the repositories to read their codes.
 */
export function translatePgError(error: unknown, connectionLost = false): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof RequestRejectedError) return error;
  if (error instanceof pg.DatabaseError) {
    const sqlClass = (error.code ?? '').slice(0, 2);
    if (UNAVAILABLE_CLASSES.has(sqlClass)) return new DatabaseUnavailableError(`the CDR store is unavailable: ${error.message}`, { cause: error });
    if (REJECTED_CLASSES.has(sqlClass)) return new RequestRejectedError(error.message, { cause: error });
    return error;
  }
  if (isSystemError(error) || (connectionLost && isError(error) && error.name !== 'AbortError')) {
    return new DatabaseUnavailableError(`the CDR store could not be reached: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/** Structural, not instanceof: Node's own errors may come from another realm (a Jest sandbox, a vm). */
function isError(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string';
}

function isSystemError(error: unknown): boolean {
  return isError(error) && typeof (error as NodeJS.ErrnoException).syscall === 'string' && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/**
 * Tells whether a client's connection has ended, from the client's own events: with it, a failure that pg
 * reports as a plain Error ("Connection terminated unexpectedly") is known to be the lost connection.
 */
export function watchConnection(client: pg.ClientBase): { readonly lost: boolean; stop(): void } {
  let lost = false;
  const onEnd = () => {
    lost = true;
  };
  client.on('end', onEnd);
  client.on('error', onEnd);
  return {
    get lost() {
      return lost;
    },
    stop() {
      client.off('end', onEnd);
      client.off('error', onEnd);
    },
  };
}
