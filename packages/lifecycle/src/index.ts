import type { Logger } from '@cdr-reports/logging';

/** Stops what `start` started; must finish within the shutdown deadline. */
export type Stop = () => Promise<void>;

export interface RunOptions {
  /** How long a graceful stop may take before the process exits anyway. Default 25 s (Kubernetes gives 30). */
  shutdownDeadlineMs?: number;
}

/**
 * Starts an app and keeps it running until SIGINT or SIGTERM, then stops it gracefully within a deadline.
 * A failure to start, or a stop that overruns, exits non-zero so supervisors notice.
 */
export async function runUntilSignal(logger: Logger, start: () => Promise<Stop>, options: RunOptions = {}): Promise<void> {
  let stop: Stop;
  try {
    stop = await start();
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    // Also straight to standard error: an asynchronous log line may not make it out before the exit.
    process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    logger.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 500).unref();
    return;
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const deadlineMs = options.shutdownDeadlineMs ?? 25_000;
    logger.info({ signal, deadline_ms: deadlineMs }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ deadline_ms: deadlineMs }, 'shutdown deadline passed; exiting with work still in flight');
      logger.flush();
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    stop().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
