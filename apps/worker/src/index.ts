export { runWorker, type WorkerOptions } from './run-worker';
export { processCdrRetention } from './processors/maintenance.processors';
export { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from './node-flags';
