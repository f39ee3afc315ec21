/** What the AWS SDK attaches to a failed S3 call; read structurally so any SDK copy's errors match. */
interface S3ErrorShape {
  name?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The S3 error code (`NoSuchKey`, `NoSuchBucket`...) of an SDK error, or undefined for other errors. */
export function s3ErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as S3ErrorShape;
  if (typeof Code === 'string') return Code;
  return typeof name === 'string' ? name : undefined;
}

export function s3HttpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as S3ErrorShape).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The object (or, for HeadBucket, the bucket) does not exist. HEAD answers carry no body, so a bare 404
 * counts; a missing bucket named as such on an object call does not: that is a configuration error.
 */
export function isS3NotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  if (code === 'NoSuchBucket') return false;
  return code === 'NotFound' || code === 'NoSuchKey' || s3HttpStatus(error) === 404;
}

/** An operation the server does not implement (some S3 clones answer lifecycle calls this way). */
export function isS3Unsupported(error: unknown): boolean {
  // S3's code for this is the HTTP 501 name, so the status alone decides.
  return s3HttpStatus(error) === 501;
}
