import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ObjectStore } from '@cdr-reports/object-store';

/**
 * Passes bytes through unchanged while hashing and counting them: put between a compressor and
 * ObjectStore.putStream, it gives the sha256 of exactly the stored bytes without reading the object back.
 */
export class Sha256Tap extends Transform {
  private readonly hash = createHash('sha256');
  /** Bytes passed so far. */
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** The hex sha256 of every byte passed; call once, after the last. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * The hex sha256 of a stored object, streamed through the hash (constant memory): for files the store made
 * itself, such as the fan-out assembly's server-side concatenation, whose bytes never passed through a tap.
 */
export async function sha256OfObject(store: ObjectStore, key: string): Promise<string> {
  const stream = await store.getStream(key);
  if (!stream) throw new Error(`cannot hash ${key}: no such object`);
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
