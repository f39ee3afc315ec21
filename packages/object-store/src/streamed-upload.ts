import { addAbortSignal, pipeline, Transform, type Readable } from 'node:stream';
import { AbortMultipartUploadCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface StreamedUpload {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  contentType: string;
  contentDisposition?: string;
  partSize: number;
  queueSize: number;
  signal?: AbortSignal;
  /** Runs once the body is wired but before anything is sent (our bucket removes a crashed attempt's parts). */
  before?: () => Promise<void>;
  /** The adapter's errors: for an abort, for a failure of S3 (`operation` names the step), of `before`. */
  errors: {
    aborted(signal: AbortSignal): unknown;
    failed(error: unknown): unknown;
    beforeFailed?(error: unknown): unknown;
  };
}

/**
 * Streams `body` into one object through lib-storage's multipart Upload, with the semantics both S3 adapters (our
 * bucket and customers' buckets) promise: memory of about queueSize x partSize; the body's own failure is the one
 * reported; an abort (through the stream, not Upload's abortController, which rejects at once while parts and the
 * completion may still be in flight: an object could appear after the rejection) leaves no object and no parts;
 * a failed upload's parts are discarded (best effort, never hiding the error). Resolves with the bytes stored.
 */
export async function streamUpload(upload: StreamedUpload): Promise<number> {
  const { body, signal, errors } = upload;
  if (signal?.aborted) {
    body.destroy();
    throw errors.aborted(signal);
  }
  let size = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(null, chunk);
    },
  });
  // The body's own failure is what the caller needs to see, not the upload error it turns into.
  let sourceError: unknown;
  body.on('error', (error) => {
    sourceError ??= error;
  });
  // Errors reach the caller through the upload; the pipeline is here to destroy the body when the upload stops.
  pipeline(body, counted, () => undefined);
  if (signal) addAbortSignal(signal, counted);

  if (upload.before) {
    try {
      await upload.before();
    } catch (error) {
      // Nothing reads the body yet: destroy it through the pipeline.
      counted.destroy();
      throw signal?.aborted ? errors.aborted(signal) : (errors.beforeFailed ?? errors.failed)(error);
    }
  }
  const multipart = new Upload({
    client: upload.client,
    params: {
      Bucket: upload.bucket,
      Key: upload.key,
      Body: counted,
      ContentType: upload.contentType,
      ...(upload.contentDisposition !== undefined && { ContentDisposition: upload.contentDisposition }),
    },
    partSize: upload.partSize,
    queueSize: upload.queueSize,
    // Parts are discarded below instead, so that a failing cleanup (a server without AbortMultipartUpload) never
    // hides the error that stopped the upload.
    leavePartsOnError: true,
  });
  try {
    await multipart.done();
  } catch (error) {
    const failure = signal?.aborted ? errors.aborted(signal) : (sourceError ?? errors.failed(error));
    counted.destroy();
    if (multipart.uploadId !== undefined) {
      await upload.client.send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: multipart.uploadId })).catch(() => undefined);
    }
    throw failure;
  }
  if (signal?.aborted) {
    // The abort came after the last part was sent: honour it by removing what was stored.
    await upload.client.send(new DeleteObjectCommand({ Bucket: upload.bucket, Key: upload.key })).catch(() => undefined);
    throw errors.aborted(signal);
  }
  return size;
}
