export { QUEUES, JOBS, isJobName, type QueueName, type JobName, type JobPayloads } from './catalog';
export { createWorkerConnection, createProducerConnection } from './redis';
export { upsertSchedules } from './schedules';
