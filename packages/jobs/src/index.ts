export { QUEUES, JOBS, isJobName, parseGenerateReportPayload, parseDeliverCallbackPayload, type QueueName, type JobName, type JobPayloads, type JobSchedule } from './catalog';
export { createWorkerConnection, createProducerConnection } from './redis';
export { upsertSchedules } from './schedules';
export { ReportQueue, type ReportLane } from './report-queue';
export { CallbackQueue, publishCallbackEvent, type CallbackOutboxStore } from './callback-queue';
