export { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from './embedded-s3';
export { EMBEDDED_S3_CREDENTIALS, type EmbeddedS3Credentials } from './embedded-s3-credentials';
export {
  startEmbeddedS3Process,
  embeddedS3Arguments,
  type EmbeddedS3Process,
  type EmbeddedS3ProcessOptions,
} from './embedded-s3-process';
export { serveEmbeddedS3 } from './serve-embedded-s3';
