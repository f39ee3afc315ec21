export { runWorker } from './run-worker';
export { processCdrRetention } from './processors/cdr-retention.processor';
