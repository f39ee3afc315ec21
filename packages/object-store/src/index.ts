export { createS3Client, type S3ClientOptions, type S3Credentials } from './s3-client';
export { ensureBucket, type EnsureBucketResult } from './ensure-bucket';
export { REPORTS_PREFIX, REPORT_LIFECYCLE_RULES } from './lifecycle-rules';
export type { ObjectStore, ObjectInfo, ObjectSummary, PutStreamOptions, StoredObject } from './object-store.port';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store';
export { attachmentDisposition } from './content-disposition';
export { openReportStorage, type ReportStorage } from './report-storage';
export { streamUpload, type StreamedUpload } from './streamed-upload';
