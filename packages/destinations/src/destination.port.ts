import type { Readable } from 'node:stream';
import type { DestinationSettings, S3Settings, SftpSettings } from '@cdr-reports/domain';
import type { AddressPolicy } from '@cdr-reports/webhooks';

/** Where in talking to a destination something failed; what a customer is told to fix depends on it. */
export type DestinationStep = 'connect' | 'authenticate' | 'write' | 'read' | 'delete';

/**
 * A customer's S3 bucket or SFTP server, secrets included: the domain's destination settings (validated there).
 * An S3 prefix's leading and trailing slashes are ignored (`reports`, `/reports/` and `reports/` are the same);
 * a relative SFTP directory is relative to the login's home directory.
 */
export type S3DestinationConfig = S3Settings;
export type SftpDestinationConfig = SftpSettings;
export type DestinationConnection = DestinationSettings;

/**
 * A failure at one step of talking to a destination. `retryable` is false when trying again cannot help until
 * the customer changes something: credentials or permissions, a missing bucket, a host key mismatch, an address
 * the policy forbids. Retry decisions are made on `retryable`, never on the message.
 */
export class DestinationError extends Error {
  override name = 'DestinationError';
  readonly step: DestinationStep;
  readonly retryable: boolean;

  constructor(step: DestinationStep, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.step = step;
    this.retryable = options.retryable;
  }
}

export interface WriteOptions {
  contentType: string;
  /** Cancels the write: it rejects with an AbortError and the target is left as it was (SFTP) or absent (S3). */
  signal?: AbortSignal;
}

/**
 * An open connection to one destination. Keys are relative to the destination's root (the S3 prefix or the SFTP
 * directory), `/`-separated, without empty, `.` or `..` segments (a RangeError otherwise). Failures reject with
 * DestinationError; an abort stays an AbortError and a failing body rejects with the body's own error.
 */
export interface DestinationSession {
  /** Where `relativeKey` lands: S3 object key (prefix + relativeKey) or SFTP absolute path (directory + '/' + relativeKey). This is what manifests record. */
  location(relativeKey: string): string;
  /**
   * Streams `body` to `relativeKey` (creating SFTP directories as needed), replacing what is there, and resolves
   * with the bytes written. Never buffers the whole body. On SFTP the bytes go to a temporary name in the same
   * directory that is then renamed over the target, so a reader never sees a half file.
   */
  write(relativeKey: string, body: Readable, options: WriteOptions): Promise<{ location: string; size: number }>;
  /** The file's bytes; a missing file rejects with a DestinationError at step 'read' that is not retryable. */
  read(relativeKey: string): Promise<Readable>;
  /** Deletes the file; a missing file is not an error. */
  delete(relativeKey: string): Promise<void>;
  /** The keys (same form as `write` takes) of every file under `relativeFolder` ('' for all), recursively, in no particular order. */
  list(relativeFolder: string): AsyncIterable<string>;
  /**
   * Removes what writes that never finished left under `relativeFolder` (a worker killed mid-write): on SFTP the
   * hidden temporary files, which `list` never shows. On S3 an unfinished multipart upload is not an object and
   * holds no key; a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes its parts. Returns how many
   * were removed. Only for a folder no other write is using at the same time.
   */
  removeAbandonedWrites(relativeFolder: string): Promise<number>;
  /** Releases the connection. Safe to call twice. */
  close(): Promise<void>;
}

export interface DestinationOptions {
  /** Which addresses may be dialled: checked on every connection, after DNS (a saved host may have been rebound since). */
  policy: AddressPolicy;
  /** Milliseconds to wait for a TCP connection (SFTP: and the SSH handshake). Default 10000. */
  connectTimeoutMs?: number;
}

/** What testDestination found. `retryable` is false when the customer has to change something first. */
export type DestinationTestResult = { ok: true } | { ok: false; step: DestinationStep; error: string; retryable: boolean };
