export { createTestDatabase, TEST_DATABASE_SERVER, type TestDatabase } from './database';
export { uniqueQueuePrefix, TEST_REDIS_URL } from './redis';
export { waitFor } from './wait';
export { startTestS3, type TestS3 } from './s3';
export { startTestServices, type TestServices } from './services';
export { startReportCluster, type ReportCluster, type ReportClusterOptions, type ReportResource } from './report-cluster';
export { readReportFile, parseCsv, gunzip, unzip, rowObjects, type ReportFileContent } from './csv-reader';
