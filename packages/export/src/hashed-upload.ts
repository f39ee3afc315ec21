import { pipeline, type Readable } from 'node:stream';
import { ExportIntegrityError } from '@cdr-reports/domain';
import { attachmentDisposition, type ObjectStore, type PutStreamOptions } from '@cdr-reports/object-store';
import { Sha256Tap } from './sha256';

export interface HashedObject {
  key: string;
  size: number;
  /** Hex sha256 of the stored bytes. */
  sha256: string;
}

/**
 * Stores `body` under `key` through a Sha256Tap: the hash is of the bytes handed to the store, taken as they
 * stream (no second read). The pipeline ties both ways: a failing body fails the upload, and an upload that
 * stops destroys the body.
 */
export async function putHashed(store: ObjectStore, key: string, body: Readable, options: PutStreamOptions): Promise<HashedObject> {
  const tap = new Sha256Tap();
  pipeline(body, tap, () => undefined);
  const stored = await store.putStream(key, tap, options);
  if (stored.size !== tap.bytes) throw new ExportIntegrityError(`the store took ${stored.size} bytes of ${key} but ${tap.bytes} were hashed`);
  return { key, size: stored.size, sha256: tap.digest() };
}

/** A file being stored: its upload, and when it has settled (stored, or failed and torn its writer down). */
export interface FileUpload {
  upload: Promise<HashedObject>;
  settled: Promise<void>;
}

/**
 * Starts storing `body` as the file `naming` (putHashed, with its Content-Disposition name). An upload failing while
 * rows are still being written (S3 down) stops the writer `input` with its error, which `onFailure` receives first:
 * it is the report's failure, not the writer's echo of it.
 */
export function startFileUpload(
  store: ObjectStore,
  naming: { key: string; name: string; contentType: string },
  body: Readable,
  input: { destroy(error?: Error): unknown },
  signal: AbortSignal,
  onFailure: (error: unknown) => void,
): FileUpload {
  const upload = putHashed(store, naming.key, body, { contentType: naming.contentType, contentDisposition: attachmentDisposition(naming.name), signal });
  const settled = upload.then(
    () => undefined,
    (error: unknown) => {
      onFailure(error);
      input.destroy(error as Error);
    },
  );
  return { upload, settled };
}
