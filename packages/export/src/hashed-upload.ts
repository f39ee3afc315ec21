import { pipeline, type Readable } from 'node:stream';
import { ExportIntegrityError } from '@cdr-reports/domain';
import type { ObjectStore, PutStreamOptions } from '@cdr-reports/object-store';
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
