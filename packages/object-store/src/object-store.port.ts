import type { Readable } from 'node:stream';

export interface PutStreamOptions {
  /** Stored as the object's Content-Type. */
  contentType: string;
  /** Stored as the object's Content-Disposition (see `attachmentDisposition`). Default: none. */
  contentDisposition?: string;
  /**
   * Cancels the upload. putStream then rejects with an AbortError once nothing is in flight any more,
   * and no object exists under the key (parts already sent are discarded). Default: not cancellable.
   */
  signal?: AbortSignal;
}

export interface StoredObject {
  key: string;
  /** Bytes stored. */
  size: number;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  contentType: string | undefined;
  contentDisposition: string | undefined;
}

export interface ObjectSummary {
  key: string;
  size: number;
  lastModified: Date;
}

/** Where report files are kept: the one port the report pipeline, the API and the sweeper use for storage. */
export interface ObjectStore {
  /**
   * Streams `body` into the object `key`, replacing any object there, and resolves once it is stored in full.
   * The body is consumed (and destroyed if the upload fails or is aborted). Unfinished uploads to `key` that
   * an earlier, crashed attempt left behind are removed first.
   */
  putStream(key: string, body: Readable, options: PutStreamOptions): Promise<StoredObject>;
  /**
   * Writes the objects `sources`, one after another, into the object `key` (replacing any object there) and
   * resolves once it is stored in full. The sources are left as they are.
   */
  concatenate(sources: readonly string[], key: string, options: PutStreamOptions): Promise<StoredObject>;
  /** The object's metadata, or undefined when there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Resolves when the store and its bucket answer; StorageUnavailableError otherwise (readiness probes). */
  checkReady(): Promise<void>;
  /** The object's bytes as a stream, or undefined when there is no such object. */
  getStream(key: string): Promise<Readable | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectSummary>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (which must not be empty) and returns how many there were. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A URL that downloads the object without credentials until it expires (at most 7 days, SigV4's limit).
   * With `downloadFilename`, browsers save the file under that name.
   */
  presignGet(key: string, expiresInSeconds: number, downloadFilename?: string): Promise<string>;
}
