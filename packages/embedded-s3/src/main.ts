import { runUntilSignal } from '@cdr-reports/lifecycle';
import { createLogger } from '@cdr-reports/logging';
import { parseEmbeddedS3Arguments } from './embedded-s3-process';
import { serveEmbeddedS3 } from './serve-embedded-s3';

// The embedded S3 server's own process, the one process whose node:crypto s3rver's compatibility patch touches.
const options = parseEmbeddedS3Arguments(process.argv.slice(2));
const logger = createLogger({ app: 's3', level: options.logLevel ?? 'info' });
void runUntilSignal(logger, () => serveEmbeddedS3(options, logger));
