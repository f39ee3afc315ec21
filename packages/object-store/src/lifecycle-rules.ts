import type { LifecycleRule } from '@aws-sdk/client-s3';

/** Every report file lives under this key prefix; the expiry rule and the sweeper rely on it. */
export const REPORTS_PREFIX = 'reports/';

/**
 * The bucket's lifecycle rules, also kept as infra/s3/lifecycle.json for operators (a unit test keeps the two equal).
 * They are a backstop: S3 rounds `Days` up to the next midnight UTC and deletes with some lag, so the 72-hour
 * download window is enforced by the application (report status, link expiry, the sweeper).
 */
export const REPORT_LIFECYCLE_RULES: readonly LifecycleRule[] = Object.freeze([
  {
    ID: 'cdr-reports-expire-reports',
    Status: 'Enabled',
    Filter: { Prefix: REPORTS_PREFIX },
    Expiration: { Days: 3 },
  },
  {
    // Uploads cut off by a crash or a failed abort keep their parts (and their cost) until aborted.
    ID: 'cdr-reports-abort-incomplete-uploads',
    Status: 'Enabled',
    Filter: { Prefix: '' },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  },
]);
