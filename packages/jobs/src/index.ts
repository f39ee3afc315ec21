export {
  QUEUES,
  JOBS,
  isJobName,
  type QueueName,
  type JobName,
  type JobData,
  type JobResult,
  type JobOf,
  type JobPayloads,
  type JobsOn,
  type JobSchedule,
  type JobDefinition,
  type ReportJobResult,
  type SegmentResult,
  type ExportSegmentPayload,
} from './catalog';
export { createJobWorker, requeueJob, type JobHandler, type JobHandlers } from './job-worker';
export { createWorkerConnection, createProducerConnection } from './redis';
export { upsertSchedules } from './schedules';
export { ReportQueue, type ReportLane } from './report-queue';
export { fanOutReport, splitRange, type SegmentRange } from './report-flow';
export { CallbackQueue, CallbackOutbox, type CallbackOutboxStore } from './callback-queue';
export { ScheduleQueue, jobSchedulerId } from './schedule-queue';
export { DeliveryQueue } from './delivery-queue';
