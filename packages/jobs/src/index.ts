export {
  QUEUES,
  JOBS,
  isJobName,
  parseGenerateReportPayload,
  parseExportSegmentPayload,
  parseAssembleReportPayload,
  parseDeliverCallbackPayload,
  parseRunSchedulePayload,
  type QueueName,
  type JobName,
  type JobPayloads,
  type JobSchedule,
} from './catalog';
export { createWorkerConnection, createProducerConnection } from './redis';
export { upsertSchedules } from './schedules';
export { ReportQueue, type ReportLane } from './report-queue';
export { fanOutReport, splitRange, type SegmentRange } from './report-flow';
export { CallbackQueue, publishCallbackEvent, type CallbackOutboxStore } from './callback-queue';
export { ScheduleQueue, jobSchedulerId } from './schedule-queue';
