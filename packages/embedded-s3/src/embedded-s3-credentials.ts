/** Static S3 credentials, as `createS3Client` of @cdr-reports/object-store takes them. */
export interface EmbeddedS3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * s3rver does not verify SigV4 signatures, but the SDK signs every request and needs some key to do it, and
 * s3rver knows this key id only.
 */
export const EMBEDDED_S3_CREDENTIALS: Readonly<EmbeddedS3Credentials> = Object.freeze({
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
});
