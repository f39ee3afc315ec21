import type { DestinationConnection, DestinationOptions, DestinationSession } from './destination.port';
import { openS3Destination } from './s3-destination';
import { openSftpDestination } from './sftp-destination';

/**
 * Opens a session on a customer's destination. Rejects with a DestinationError (step 'connect' or 'authenticate')
 * when it cannot be reached or refuses us; an S3 session sends nothing until its first operation, so its
 * failures show there.
 */
export async function openDestination(connection: DestinationConnection, options: DestinationOptions): Promise<DestinationSession> {
  switch (connection.type) {
    case 's3':
      return openS3Destination(connection.s3, options);
    case 'sftp':
      return openSftpDestination(connection.sftp, options);
  }
}
