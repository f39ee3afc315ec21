import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPORT_LIFECYCLE_RULES, REPORTS_PREFIX } from '../src';

const infra = join(__dirname, '../../../infra/s3');
const readRules = (file: string): unknown => (JSON.parse(readFileSync(join(infra, file), 'utf8')) as { Rules: unknown }).Rules;

describe('report lifecycle rules', () => {
  it('expire reports after 3 days and abandoned multipart uploads after 1', () => {
    expect(REPORT_LIFECYCLE_RULES).toContainEqual(
      expect.objectContaining({ Filter: { Prefix: REPORTS_PREFIX }, Expiration: { Days: 3 }, Status: 'Enabled' }),
    );
    expect(REPORT_LIFECYCLE_RULES).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
    );
  });

  it('are what infra/s3/lifecycle.json applies by hand', () => {
    expect(readRules('lifecycle.json')).toEqual(REPORT_LIFECYCLE_RULES);
  });

  it('match infra/s3/minio-lifecycle.json, less the abort rule MinIO does not implement', () => {
    expect(readRules('minio-lifecycle.json')).toEqual(
      REPORT_LIFECYCLE_RULES.filter((rule) => rule.AbortIncompleteMultipartUpload === undefined),
    );
  });
});
