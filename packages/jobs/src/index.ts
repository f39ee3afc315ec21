export { QUEUES, JOBS, isJobName, parseGenerateReportPayload, type QueueName, type JobName, type JobPayloads, type JobSchedule } from './catalog';
export { createWorkerConnection, createProducerConnection } from './redis';
export { upsertSchedules } from './schedules';
export { ReportQueue } from './report-queue';
