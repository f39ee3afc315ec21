export { Metrics } from './metrics';
export { checkReadiness, type ReadinessCheck, type ReadinessReport } from './readiness';
export { startOpsServer, type OpsServer } from './ops-server';
export { jobFlowCheck, type JobFlowOptions } from './job-flow';
