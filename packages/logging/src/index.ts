import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger, DestinationStream } from 'pino';

/**
 * Paths that must never reach a log: credentials, webhook secrets, presigned links, message bodies
 * and phone numbers in debug dumps. Redaction is on for every logger this package makes.
 */
export const REDACTED_PATHS = [
  'api_key',
  'apiKey',
  'webhook_secret',
  'webhookSecret',
  'authorization',
  'req.headers.authorization',
  'headers.authorization',
  '*.api_key',
  '*.webhook_secret',
  'download_url',
  '*.download_url',
  // Destination secrets (sealed in the store), wherever a body or settings object is logged.
  'secret_access_key',
  '*.secret_access_key',
  '*.*.secret_access_key',
  'password',
  '*.password',
  '*.*.password',
  'private_key',
  '*.private_key',
  '*.*.private_key',
  'message_body',
  '*.message_body',
  '*.*.message_body',
  // Phone numbers appear in CDR records dumped while debugging; time ranges named from/to are left alone.
  'record.from',
  'record.to',
  'cdr.from',
  'cdr.to',
  'row.from',
  'row.to',
];

export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: string;
  /** Name of the app, bound to every line as `app`. */
  app: string;
  /** Where lines go. Default standard output. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: options.app, pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
