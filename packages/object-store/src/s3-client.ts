import { S3Client } from '@aws-sdk/client-s3';

/** Static S3 credentials. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3ClientOptions {
  /**
   * URL of an S3-compatible service (MinIO, Ceph, the embedded development server). Default: unset, which means
   * AWS S3 itself, resolved from `region`.
   */
  endpoint?: string;
  /** Region requests are signed for. Default `us-east-1`. */
  region?: string;
  /** Default: unset, which means the AWS SDK's default provider chain (environment, profile, web identity, ECS, IMDS). */
  credentials?: S3Credentials;
  /** Milliseconds to wait for a TCP connection before the attempt fails. Default 5000. */
  connectionTimeoutMs?: number;
  /**
   * Milliseconds a socket may stay idle during a request before the attempt fails, response streams included:
   * a getStream reader that stops reading for this long loses the stream. Default 60000.
   */
  socketTimeoutMs?: number;
}

/** Creates an S3 client that works the same against AWS S3 and against S3-compatible servers. */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint !== undefined && {
      endpoint: options.endpoint,
      // A host-style bucket address (bucket.localhost, bucket.minio) does not resolve on a custom endpoint.
      forcePathStyle: true,
    }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    // The SDK's default (checksums on every request since early 2025) silently corrupts streamed uploads
    // to S3 clones; AWS itself still gets checksums wherever an operation requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without timeouts a dead connection hangs a job until its lock expires and it is run again. An idle
    // timeout, not a total one: a large part or download may rightly take minutes.
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
    },
  });
}
