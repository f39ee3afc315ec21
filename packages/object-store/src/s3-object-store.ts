import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { StorageUnavailableError } from '@cdr-reports/domain';
import { attachmentDisposition } from './content-disposition';
import { streamUpload } from './streamed-upload';
import { GetObjectPresigner } from './get-object-presigner';
import type { ObjectInfo, ObjectStore, ObjectSummary, PutStreamOptions, StoredObject } from './object-store.port';
import { isS3NotFound, isS3Unsupported, missingBucketError, s3ErrorCode, s3HttpStatus, toStorageError } from './s3-errors';

const MIB = 1024 * 1024;
/** S3 rejects smaller parts (except the last). */
const MIN_PART_SIZE = 5 * MIB;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
/** The most parts of one multipart upload. */
const MAX_PARTS = 10_000;
/** The most keys one ListObjectsV2 or DeleteObjects call handles. */
const MAX_KEYS_PER_CALL = 1000;

export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  /**
   * Bytes per multipart part, at least 5 MiB. An upload has at most 10,000 parts, so this caps the
   * object size (8 MiB: about 78 GiB). Default 8 MiB.
   */
  partSize?: number;
  /** Parts of one upload sent in parallel; an upload buffers about queueSize x partSize bytes. Default 2. */
  queueSize?: number;
  /** Keys fetched per list request, 1 to 1000. Default 1000. */
  listPageSize?: number;
}

/**
 * The object store on S3 or any S3-compatible server. Every failure of the storage (an S3 error answer, a
 * missing bucket, a connection refused or cut) rejects as the domain's StorageUnavailableError (see
 * toStorageError); a missing object is a result, not a failure, and an abort stays an AbortError.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;
  private readonly presigner: GetObjectPresigner;

  constructor(options: S3ObjectStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.partSize = options.partSize ?? 8 * MIB;
    this.queueSize = options.queueSize ?? 2;
    this.listPageSize = options.listPageSize ?? MAX_KEYS_PER_CALL;
    this.presigner = new GetObjectPresigner(this.client, this.bucket);
    if (this.partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least 5 MiB, got ${this.partSize}`);
    if (!Number.isInteger(this.queueSize) || this.queueSize < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${this.queueSize}`);
    }
    if (!Number.isInteger(this.listPageSize) || this.listPageSize < 1 || this.listPageSize > MAX_KEYS_PER_CALL) {
      throw new RangeError(`listPageSize must be an integer from 1 to ${MAX_KEYS_PER_CALL}, got ${this.listPageSize}`);
    }
  }

  async putStream(key: string, body: Readable, options: PutStreamOptions): Promise<StoredObject> {
    const size = await streamUpload({
      client: this.client,
      bucket: this.bucket,
      key,
      body,
      contentType: options.contentType,
      contentDisposition: options.contentDisposition,
      partSize: this.partSize,
      queueSize: this.queueSize,
      signal: options.signal,
      before: () => this.abortUnfinishedUploads(key),
      errors: { aborted: uploadAborted, failed: (error) => toStorageError('upload', error), beforeFailed: (error) => toStorageError('ListMultipartUploads', error) },
    });
    return { key, size };
  }

  /**
   * Server-side where S3 allows it: a multipart upload whose parts are copies of the sources (UploadPartCopy),
   * no byte passing through this process, when every source but the last has at least 5 MiB (S3's least part
   * size) and there are at most 10,000. Otherwise, or when the server does not implement UploadPartCopy
   * (some S3 clones answer 501), the sources are streamed through into one upload.
   */
  async concatenate(sources: readonly string[], key: string, options: PutStreamOptions): Promise<StoredObject> {
    const infos = await Promise.all(sources.map((source) => this.head(source)));
    const missing = sources.filter((_, index) => infos[index] === undefined);
    if (missing.length > 0) throw new Error(`cannot concatenate: no object ${missing.join(', ')}`);
    const sizes = infos.map((info) => info!.size);
    const copyable = sources.length > 0 && sources.length <= MAX_PARTS && sizes.slice(0, -1).every((size) => size >= MIN_PART_SIZE);
    if (copyable && !options.signal?.aborted) {
      try {
        return await this.concatenateByCopy(sources, key, options, sizes);
      } catch (error) {
        if (!isS3Unsupported(error)) throw toStorageError('UploadPartCopy', error);
      }
    }
    const open = (source: string) => this.getStream(source);
    async function* bytes() {
      for (const source of sources) {
        const stream = await open(source);
        if (!stream) throw new Error(`cannot concatenate: object ${source} disappeared`);
        try {
          yield* stream;
        } catch (error) {
          // A download cut off mid-way: the storage's failure, not the source stream's.
          throw toStorageError('GetObject', error);
        }
      }
    }
    return this.putStream(key, Readable.from(bytes()), options);
  }

  private async concatenateByCopy(sources: readonly string[], key: string, options: PutStreamOptions, sizes: number[]): Promise<StoredObject> {
    await this.abortUnfinishedUploads(key);
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: options.contentType,
        ...(options.contentDisposition !== undefined && { ContentDisposition: options.contentDisposition }),
      }),
    );
    const uploadId = created.UploadId!;
    try {
      const parts = [];
      for (const [index, source] of sources.entries()) {
        if (options.signal?.aborted) throw uploadAborted(options.signal);
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          }),
        );
        parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      await this.discardParts(key, uploadId);
      throw error;
    }
    return { key, size: sizes.reduce((total, size) => total + size, 0) };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const object = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: object.ContentLength ?? 0,
        lastModified: object.LastModified ?? new Date(0),
        contentType: object.ContentType,
        contentDisposition: object.ContentDisposition,
      };
    } catch (error) {
      if (!isS3NotFound(error)) throw toStorageError('HeadObject', error);
    }
    // A HEAD answer has no body to say NoSuchBucket: a 404 is as much a missing bucket as a missing object.
    await this.assertBucketExists('HeadObject');
    return undefined;
  }

  checkReady(): Promise<void> {
    return this.assertBucketExists('HeadBucket');
  }

  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      // The SDK's Node HTTP handler answers with the response stream itself; anything else is a misconfigured client.
      if (!(object.Body instanceof Readable)) throw new TypeError('the S3 client did not return a Node.js stream');
      return object.Body;
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw toStorageError('GetObject', error);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectSummary> {
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: this.listPageSize },
      { Bucket: this.bucket, Prefix: prefix },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield { key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
        }
      }
    } catch (error) {
      // Only the pages fail here: a consumer that stops early returns from the yield, it does not throw into it.
      throw toStorageError('ListObjectsV2', error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw toStorageError('DeleteObject', error);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (prefix === '') throw new RangeError('deletePrefix needs a non-empty prefix: it will not empty the whole bucket');
    let deleted = 0;
    let batch: string[] = [];
    // Listing resumes after the last key seen, so deleting listed keys does not disturb the pages still to come.
    for await (const object of this.list(prefix)) {
      batch.push(object.key);
      if (batch.length === MAX_KEYS_PER_CALL) {
        deleted += await this.deleteKeys(batch);
        batch = [];
      }
    }
    if (batch.length > 0) deleted += await this.deleteKeys(batch);
    return deleted;
  }

  async presignGet(key: string, expiresInSeconds: number, downloadFilename?: string): Promise<string> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`expiresInSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS} (7 days), got ${expiresInSeconds}`);
    }
    try {
      return await this.presigner.presign(key, {
        expiresIn: expiresInSeconds,
        ...(downloadFilename !== undefined && { contentDisposition: attachmentDisposition(downloadFilename) }),
      });
    } catch (error) {
      // Signing is local; what can fail is resolving the credentials (an unreachable metadata service...).
      throw toStorageError('presign GetObject', error);
    }
  }

  /** Resolves if the bucket exists; a StorageUnavailableError if it does not or cannot be asked. */
  private async assertBucketExists(operation: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (isS3NotFound(error)) throw missingBucketError(operation, this.bucket, error);
      throw toStorageError(operation, error);
    }
  }

  private async deleteKeys(keys: string[]): Promise<number> {
    let result;
    try {
      result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((key) => ({ Key: key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw toStorageError('DeleteObjects', error);
    }
    const failed = result.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      // The storage refused some keys (AccessDenied, InternalError...): its failure, answered per key.
      throw new StorageUnavailableError(
        `S3 DeleteObjects failed for ${failed.length} of ${keys.length} objects: ${first?.Code ?? 'Error'} (first: ${first?.Key}: ${first?.Message})`,
      );
    }
    return keys.length;
  }

  /**
   * Aborts every unfinished multipart upload to exactly `key`: what an earlier attempt left when its process
   * was killed mid-upload. Only one attempt writes a key at a time (the job's lock), so none of these is live.
   * On a server without ListMultipartUploads, the bucket's AbortIncompleteMultipartUpload rule is the backstop.
   */
  private async abortUnfinishedUploads(key: string): Promise<void> {
    for (;;) {
      let listed;
      try {
        listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
      } catch (error) {
        if (isS3Unsupported(error) || s3HttpStatus(error) === 405) return;
        throw error;
      }
      const unfinished = (listed.Uploads ?? []).filter((upload) => upload.Key === key && upload.UploadId !== undefined);
      for (const upload of unfinished) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.UploadId })).catch((error: unknown) => {
          // Completed or aborted meanwhile: nothing left to remove.
          if (s3ErrorCode(error) !== 'NoSuchUpload') throw error;
        });
      }
      // Longer keys sharing the prefix fill pages too: go on while a full page held some of ours.
      if (!listed.IsTruncated || unfinished.length === 0) return;
    }
  }

  private async discardParts(key: string, uploadId: string | undefined): Promise<void> {
    if (uploadId === undefined) return;
    // Best effort: the bucket's AbortIncompleteMultipartUpload rule removes whatever this cannot.
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
  }
}

function uploadAborted(signal: AbortSignal): Error {
  const error = new Error('upload aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}
