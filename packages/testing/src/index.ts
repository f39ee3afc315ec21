export { createTestDatabase, TEST_DATABASE_SERVER, type TestDatabase } from './database';
export { uniqueQueuePrefix, TEST_REDIS_URL } from './redis';
export { waitFor } from './wait';
export { startTestS3, type TestS3 } from './s3';
export { downloadObject, keysUnder } from './object-store-fixtures';
export { startTestServices, type TestServices, type TestServicesOptions } from './services';
export { startReportCluster, type ReportCluster, type ReportClusterOptions, type ReportResource } from './report-cluster';
export { useReportCluster, type ReportClusterFixture, type ReportClusterFixtureOptions } from './report-cluster-fixture';
export { readReportFile, parseCsv, gunzip, unzip, rowObjects, type ReportFileContent } from './csv-reader';
export { readJsonLinesFile, parseJsonLines, jsonObjects, type JsonLinesContent, type JsonCell } from './jsonl-reader';
export { cdrFactory, yesterdayAtUtc, minutesAfter, type CdrFactory, type CdrFactoryOptions } from './cdr-fixtures';
export { micros, inFileOrder, decimalSum, normalDecimal, expectedSummary } from './report-expectations';
export { reportRequest } from './report-request-fixtures';
export { startWebhookReceiver, type WebhookReceiver, type ReceivedWebhook, type WebhookAnswer } from './webhook-receiver';
export { ACME_AND_GLOBEX, createAccounts, type AccountTree } from './account-fixtures';
export { openReportQueue, abortUnfinishedReports, type ReportQueueProbe } from './report-queue-probe';
export {
  callbackLog,
  waitForCallbackState,
  webhookSecret,
  verifyWebhook,
  signaturesOf,
  receivedForReport,
  createAbortedReport,
  openCallbackQueue,
  type CallbackLogResource,
  type CallbackAttemptResource,
  type WebhookEvent,
  type CallbackQueueProbe,
} from './callback-fixtures';
export { AppProcess, type AppName } from './app-process';
export { startRestartableS3, type RestartableS3 } from './restartable-s3';
export { startTestRedisServer, type TestRedisServer } from './redis-server';
export { freePort, tryConnect } from './free-port';
export { openReportRunner } from './report-runner-fixture';
export { captureOutput } from './capture-output';
export { startSftpServer, type TestSftpServer } from './sftp-server';
export { ParquetReader, type ParquetContent, type ParquetSchemaColumn } from './parquet-reader';
