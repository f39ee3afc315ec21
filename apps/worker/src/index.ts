export { runWorker, type WorkerOptions } from './run-worker';
export { processCdrRetention } from './processors/cdr-retention.processor';
export { processGenerateReport, describeFailure } from './processors/generate-report.processor';
export { processReportSweeper } from './processors/report-sweeper.processor';
export { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from './node-flags';
