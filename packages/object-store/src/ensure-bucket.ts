import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  type BucketLocationConstraint,
  type GetBucketLifecycleConfigurationCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '@cdr-reports/logging';
import { REPORT_LIFECYCLE_RULES } from './lifecycle-rules';
import { isS3NotFound, isS3Unsupported, s3ErrorCode, toStorageError } from './s3-errors';

export interface EnsureBucketResult {
  /** True when this call created the bucket. */
  created: boolean;
  /** `unsupported` when the server has no lifecycle API (some S3 clones); expiry then rests on the sweeper alone. */
  lifecycle: 'applied' | 'unsupported';
}

/**
 * Makes the report bucket ready: creates it if missing and applies the report lifecycle rules.
 * Safe to run at every start of every replica: concurrent creation is tolerated, and lifecycle rules
 * that others added to the bucket are kept. A storage that cannot be reached, or refuses, rejects with a
 * StorageUnavailableError.
 */
export async function ensureBucket(client: S3Client, bucket: string, logger: Logger): Promise<EnsureBucketResult> {
  let created: boolean;
  let lifecycle: EnsureBucketResult['lifecycle'];
  try {
    created = await createBucketIfMissing(client, bucket);
    if (created) logger.info({ bucket }, 'bucket created');
    lifecycle = await applyLifecycleRules(client, bucket);
  } catch (error) {
    throw toStorageError('ensure bucket', error);
  }
  if (lifecycle === 'unsupported') {
    logger.warn({ bucket }, 'lifecycle not supported by this S3 server; the report sweeper enforces expiry');
  }
  return { created, lifecycle };
}

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (isS3NotFound(error)) return false;
    throw error;
  }
}

async function createBucketIfMissing(client: S3Client, bucket: string): Promise<boolean> {
  // Look first: in us-east-1, CreateBucket on a bucket you already own succeeds, so it cannot tell "created" apart.
  if (await bucketExists(client, bucket)) return false;
  const region = await client.config.region();
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that rejects an explicit location constraint.
        ...(region !== 'us-east-1' && { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    return true;
  } catch (error) {
    const code = s3ErrorCode(error);
    // Another replica won the race. Some S3 clones say BucketAlreadyExists for their own buckets too,
    // which on AWS means someone else's bucket: only a bucket we can reach counts as ours.
    if (code === 'BucketAlreadyOwnedByYou') return false;
    if (code === 'BucketAlreadyExists' && (await bucketExists(client, bucket).catch(() => false))) return false;
    throw error;
  }
}

async function applyLifecycleRules(client: S3Client, bucket: string): Promise<EnsureBucketResult['lifecycle']> {
  let current: GetBucketLifecycleConfigurationCommandOutput | undefined;
  try {
    current = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  } catch (error) {
    if (isS3Unsupported(error)) return 'unsupported';
    if (s3ErrorCode(error) !== 'NoSuchLifecycleConfiguration') throw error;
  }
  // A PUT replaces the whole configuration: keep rules that operators added, replace ours by ID.
  const ours = new Set(REPORT_LIFECYCLE_RULES.map((rule) => rule.ID));
  const others = (current?.Rules ?? []).filter((rule) => !ours.has(rule.ID));
  try {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [...others, ...REPORT_LIFECYCLE_RULES] },
        ...(current?.TransitionDefaultMinimumObjectSize !== undefined && {
          TransitionDefaultMinimumObjectSize: current.TransitionDefaultMinimumObjectSize,
        }),
      }),
    );
  } catch (error) {
    if (isS3Unsupported(error)) return 'unsupported';
    throw error;
  }
  return 'applied';
}
