import { loadConfigOrExit } from '@cdr-reports/config';
import { createLogger } from '@cdr-reports/logging';
import { runUntilSignal } from '@cdr-reports/lifecycle';
import { runApi } from './run-api';

const config = loadConfigOrExit();
const logger = createLogger({ app: 'api', level: config.logLevel });
void runUntilSignal(logger, () => runApi(config, logger), { shutdownDeadlineMs: config.shutdownTimeoutMs });
