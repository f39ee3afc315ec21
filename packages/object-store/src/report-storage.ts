import type { Config } from '@cdr-reports/config';
import type { Logger } from '@cdr-reports/logging';
import { ensureBucket } from './ensure-bucket';
import type { ObjectStore } from './object-store.port';
import { createS3Client } from './s3-client';
import { S3ObjectStore } from './s3-object-store';

/**
 * The key of the local S3 server that `npm start` runs on EMBEDDED_S3_PORT when S3_ENDPOINT is unset: it checks the
 * key id but no signature. This package does not depend on that server: the server's own tests check that the
 * apps' default endpoint and this key reach it.
 */
const LOCAL_S3_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

/** Where report files live, as the apps use it. */
export interface ReportStorage {
  /** Uploads, reads and deletes. */
  store: ObjectStore;
  /** Presigns download links for callers (through S3_PUBLIC_ENDPOINT when set). */
  links: ObjectStore;
  close(): void;
}

/**
 * The report bucket from the configuration: S3_ENDPOINT, or the embedded server on EMBEDDED_S3_PORT when it is
 * unset. The bucket is created if missing and given its lifecycle rules, unless `ensure` is false (a CLI
 * command that only presigns or deletes, and must work while the S3 server is down).
 */
export async function openReportStorage(config: Config, logger: Logger, options: { ensure?: boolean } = {}): Promise<ReportStorage> {
  const embedded = config.s3Endpoint === undefined;
  const endpoint = config.s3Endpoint ?? `http://127.0.0.1:${config.embeddedS3Port}`;
  const credentials =
    config.s3AccessKeyId && config.s3SecretAccessKey
      ? { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey }
      : embedded
        ? { ...LOCAL_S3_CREDENTIALS }
        : undefined;
  const client = createS3Client({ endpoint, region: config.s3Region, credentials });
  const linkClient = config.s3PublicEndpoint
    ? createS3Client({ endpoint: config.s3PublicEndpoint, region: config.s3Region, credentials })
    : client;
  if (options.ensure !== false) await ensureBucket(client, config.s3Bucket, logger);
  const store = new S3ObjectStore({ client, bucket: config.s3Bucket });
  return {
    store,
    links: linkClient === client ? store : new S3ObjectStore({ client: linkClient, bucket: config.s3Bucket }),
    close() {
      client.destroy();
      if (linkClient !== client) linkClient.destroy();
    },
  };
}
