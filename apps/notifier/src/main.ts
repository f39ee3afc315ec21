import { loadConfigOrExit } from '@cdr-reports/config';
import { runUntilSignal } from '@cdr-reports/lifecycle';
import { createLogger } from '@cdr-reports/logging';
import { runNotifier } from './run-notifier';

const config = loadConfigOrExit();
const logger = createLogger({ app: 'notifier', level: config.logLevel });
void runUntilSignal(logger, () => runNotifier(config, logger), { shutdownDeadlineMs: config.shutdownTimeoutMs });
