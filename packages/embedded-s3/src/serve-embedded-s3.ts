import type { Logger } from '@cdr-reports/logging';
import { startEmbeddedS3, type EmbeddedS3Options } from './embedded-s3';
import type { EmbeddedS3ReadyMessage } from './embedded-s3-process';

/**
 * Runs the embedded server as the whole of this process (main.ts, `cli start s3`): logs where it listens,
 * tells a launcher that holds an IPC channel, and stops when that launcher goes away. Returns its stop.
 */
export async function serveEmbeddedS3(options: EmbeddedS3Options, logger: Logger): Promise<() => Promise<void>> {
  const server = await startEmbeddedS3(options);
  logger.info({ endpoint: server.endpoint, directory: options.directory }, 'embedded S3 server started');
  if (process.send) {
    const ready: EmbeddedS3ReadyMessage = { type: 'embedded-s3-ready', endpoint: server.endpoint };
    process.send(ready);
    // The launcher exited without stopping us (a test runner that crashed): stop as if it had sent SIGTERM.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  return () => server.close();
}
