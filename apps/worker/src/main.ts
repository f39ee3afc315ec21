import { loadConfigOrExit } from '@cdr-reports/config';
import { runUntilSignal } from '@cdr-reports/lifecycle';
import { createLogger } from '@cdr-reports/logging';
import { runWorker } from './run-worker';

const config = loadConfigOrExit();
const logger = createLogger({ app: 'worker', level: config.logLevel });
void runUntilSignal(logger, () => runWorker(config, logger), { shutdownDeadlineMs: config.shutdownTimeoutMs });
