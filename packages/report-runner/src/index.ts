export { ReportRunner, segmentKey, type ReportRunnerDependencies, type RunOutcome, type SegmentOutcome, type SweepResult } from './report-runner';
export { RELEASE_REASON, type Attempt } from './report-attempt';
export { triage, MAX_SEGMENTS, type TriageDecision, type TriageThresholds } from './triage';
export { ReportDelivery, type ReportDeliveryDependencies, type DeliveryOutcome } from './report-delivery';
