import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { streamUpload } from '@cdr-reports/object-store';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { writeAborted } from './abort';
import { destinationHost, forbidden } from './address-check';
import { DestinationError, type DestinationOptions, type DestinationSession, type S3DestinationConfig, type WriteOptions } from './destination.port';
import { guardedLookup } from './guarded-lookup';
import { checkRelativeFolder, checkRelativeKey } from './relative-key';
import { toS3DestinationError } from './s3-errors';

const MIB = 1024 * 1024;
/** 8 MiB parts allow objects up to ~78 GiB (10,000 parts); memory per write is about QUEUE_SIZE x PART_SIZE. */
const PART_SIZE = 8 * MIB;
const QUEUE_SIZE = 2;
/** A socket idle this long during a request fails it: a customer's server that stops answering must not hang a job. */
const SOCKET_TIMEOUT_MS = 60_000;

/** `reports`, `/reports/` and `reports/` all mean the folder `reports/`; '' is the bucket's root. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/**
 * Opens a session on a customer's bucket. Nothing is sent yet (S3 has no connection to open, and a write-only
 * IAM policy may refuse HeadBucket): the first request reports what is wrong. IP-literal endpoints are checked
 * here, host names on every connection by the agents' lookup.
 */
export function openS3Destination(config: S3DestinationConfig, options: DestinationOptions): DestinationSession {
  let host: string;
  try {
    host = destinationHost({ type: 's3', s3: config });
  } catch (error) {
    throw new DestinationError('connect', (error as Error).message, { retryable: false });
  }
  if (isIP(host)) {
    const refusal = options.policy.refusal(host);
    if (refusal) throw forbidden(host, refusal);
  }
  const lookup = guardedLookup(options.policy);
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.force_path_style,
    credentials: { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key },
    // The SDK's default (checksums on every request) silently corrupts streamed uploads to some S3 clones; AWS
    // still gets checksums wherever an operation requires one.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, lookup: lookup as never }),
      httpsAgent: new HttpsAgent({ keepAlive: true, lookup: lookup as never }),
      connectionTimeout: options.connectTimeoutMs ?? 10_000,
      requestTimeout: SOCKET_TIMEOUT_MS,
    }),
  });
  return new S3Destination(client, config.bucket, normalizePrefix(config.prefix));
}

class S3Destination implements DestinationSession {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  location(relativeKey: string): string {
    return `${this.prefix}${checkRelativeKey(relativeKey)}`;
  }

  async write(relativeKey: string, body: Readable, options: WriteOptions): Promise<{ location: string; size: number }> {
    const key = this.location(relativeKey);
    const size = await streamUpload({
      client: this.client,
      bucket: this.bucket,
      key,
      body,
      contentType: options.contentType,
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      signal: options.signal,
      errors: { aborted: writeAborted, failed: (error) => toS3DestinationError('write', error, { bucket: this.bucket, key }) },
    });
    return { location: key, size };
  }

  async read(relativeKey: string): Promise<Readable> {
    const key = this.location(relativeKey);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return object.Body as Readable;
    } catch (error) {
      throw toS3DestinationError('read', error, { bucket: this.bucket, key });
    }
  }

  async delete(relativeKey: string): Promise<void> {
    const key = this.location(relativeKey);
    try {
      // S3 answers 204 for a missing key as well.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw toS3DestinationError('delete', error, { bucket: this.bucket, key });
    }
  }

  async *list(relativeFolder: string): AsyncIterable<string> {
    const folder = checkRelativeFolder(relativeFolder);
    const prefix = folder === '' ? this.prefix : `${this.prefix}${folder}/`;
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: prefix })) {
        for (const object of page.Contents ?? []) {
          // Keys ending in '/' are the empty "folder" objects consoles create, not files.
          if (object.Key !== undefined && !object.Key.endsWith('/')) yield object.Key.slice(this.prefix.length);
        }
      }
    } catch (error) {
      throw toS3DestinationError('read', error, { bucket: this.bucket, key: prefix });
    }
  }

  async removeAbandonedWrites(relativeFolder: string): Promise<number> {
    const folder = checkRelativeFolder(relativeFolder);
    const prefix = folder === '' ? this.prefix : `${this.prefix}${folder}/`;
    let removed = 0;
    try {
      // One page (up to 1,000) is plenty for one report's folder; the lifecycle rule takes whatever is left.
      const listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix }));
      for (const upload of listed.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }));
        removed++;
      }
    } catch (error) {
      throw toS3DestinationError('delete', error, { bucket: this.bucket, key: prefix });
    }
    return removed;
  }

  async close(): Promise<void> {
    // Destroys the handler's agents and their keep-alive sockets.
    this.client.destroy();
  }

  private async discardParts(key: string, uploadId: string | undefined): Promise<void> {
    if (uploadId === undefined) return;
    // Best effort: parts left behind cost the customer storage until their own lifecycle rule removes them.
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
  }
}
