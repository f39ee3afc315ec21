import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { writeAborted } from './abort';
import { DestinationError, type DestinationOptions, type DestinationSession, type SftpDestinationConfig, type WriteOptions } from './destination.port';
import { checkRelativeFolder, checkRelativeKey } from './relative-key';
import { connectSftp } from './sftp-connect';
import { SFTP_STATUS, sftpStatus, toSftpDestinationError } from './sftp-errors';
import { SftpFileReader, SftpFileWriter } from './sftp-file-streams';

/** What a write in progress is called: hidden, next to its target, and skipped by `list`. */
const PARTIAL_FILE = /^\..+\.[0-9a-f]{12}\.partial$/;

/** Logs in, opens SFTP and fixes the absolute folder everything is written under. */
export async function openSftpDestination(config: SftpDestinationConfig, options: DestinationOptions): Promise<DestinationSession> {
  const { client, sftp } = await connectSftp(config, options);
  const session = new SftpDestination(client, sftp);
  try {
    await session.resolveRoot(config.directory);
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}

class SftpDestination implements DestinationSession {
  private root = '/';
  private closed = false;
  private readonly ended: Promise<unknown>;

  constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
  ) {
    this.ended = once(client, 'close');
    client.once('close', () => (this.closed = true));
  }

  /** A relative `directory` is relative to the login's home, which only the server knows: asked once, here. */
  async resolveRoot(directory: string): Promise<void> {
    const trimmed = directory.trim();
    if (trimmed.startsWith('/')) {
      this.root = posix.normalize(trimmed);
    } else {
      const home = await this.call<string>((done) => this.sftp.realpath('.', done)).catch((error: unknown) => {
        throw toSftpDestinationError('read', error, '.', this.closed);
      });
      this.root = posix.join(home, trimmed);
    }
    if (this.root.length > 1) this.root = this.root.replace(/\/+$/, '');
  }

  location(relativeKey: string): string {
    return posix.join(this.root, checkRelativeKey(relativeKey));
  }

  async write(relativeKey: string, body: Readable, options: WriteOptions): Promise<{ location: string; size: number }> {
    const target = this.location(relativeKey);
    const { signal } = options;
    const directory = posix.dirname(target);
    const partial = posix.join(directory, `.${posix.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
    let handle: Buffer;
    // Errors name the folder or the target: the temporary name means nothing to a customer.
    let failingPath = directory;
    try {
      if (signal?.aborted) throw writeAborted(signal);
      await this.ensureDirectory(directory);
      failingPath = target;
      handle = await this.call<Buffer>((done) => this.sftp.open(partial, 'w', done));
    } catch (error) {
      body.destroy();
      throw this.failure('write', error, failingPath);
    }
    // The body's own failure is what the caller needs to see, not what it turned into downstream.
    let sourceError: unknown;
    body.on('error', (error) => {
      sourceError ??= error;
    });
    const writer = new SftpFileWriter(this.sftp, handle);
    let open = true;
    try {
      await pipeline(body, writer, signal ? { signal } : {});
      open = false;
      // A close can be where a server reports that the bytes did not make it (network file systems report late).
      await this.call((done) => this.sftp.close(handle, done));
      if (signal?.aborted) throw writeAborted(signal);
      await this.replace(partial, target);
    } catch (error) {
      if (open) await this.call((done) => this.sftp.close(handle, done)).catch(() => undefined);
      await this.call((done) => this.sftp.unlink(partial, done)).catch(() => undefined);
      throw signal?.aborted ? writeAborted(signal) : (sourceError ?? this.failure('write', error, target));
    }
    return { location: target, size: writer.bytesWritten };
  }

  async read(relativeKey: string): Promise<Readable> {
    const path = this.location(relativeKey);
    try {
      // Opened here rather than lazily in the stream, so that a missing file rejects read() itself.
      const handle = await this.call<Buffer>((done) => this.sftp.open(path, 'r', done));
      return new SftpFileReader(this.sftp, handle, (error) => this.failure('read', error, path) as Error);
    } catch (error) {
      throw this.failure('read', error, path);
    }
  }

  async delete(relativeKey: string): Promise<void> {
    const path = this.location(relativeKey);
    try {
      await this.call((done) => this.sftp.unlink(path, done));
    } catch (error) {
      if (sftpStatus(error) === SFTP_STATUS.NO_SUCH_FILE) return;
      throw this.failure('delete', error, path);
    }
  }

  async *list(relativeFolder: string): AsyncIterable<string> {
    const folder = checkRelativeFolder(relativeFolder);
    yield* this.walk(folder);
  }

  async removeAbandonedWrites(relativeFolder: string): Promise<number> {
    const folder = checkRelativeFolder(relativeFolder);
    let removed = 0;
    for await (const key of this.walk(folder, true)) {
      await this.delete(key);
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (!this.closed) this.client.end();
    await this.ended;
  }

  /** The files under `folder`; with `partials`, only the hidden files of writes in progress (or abandoned) instead. */
  private async *walk(folder: string, partials = false): AsyncGenerator<string> {
    const path = folder === '' ? this.root : posix.join(this.root, folder);
    let entries: FileEntryWithStats[];
    try {
      entries = await this.call<FileEntryWithStats[]>((done) => this.sftp.readdir(path, done));
    } catch (error) {
      if (sftpStatus(error) === SFTP_STATUS.NO_SUCH_FILE) return;
      throw this.failure('read', error, path);
    }
    for (const entry of entries) {
      if (entry.filename === '.' || entry.filename === '..') continue;
      const key = folder === '' ? entry.filename : `${folder}/${entry.filename}`;
      // Symbolic links are not followed: a link to a parent would never end.
      if (entry.attrs.isDirectory()) yield* this.walk(key, partials);
      else if (entry.attrs.isFile() && PARTIAL_FILE.test(entry.filename) === partials) yield key;
    }
  }

  /** mkdir -p: the deepest existing ancestor is found by stat, the rest created top down. */
  private async ensureDirectory(path: string): Promise<void> {
    let stats: Stats | undefined;
    try {
      stats = await this.call<Stats>((done) => this.sftp.stat(path, done));
    } catch (error) {
      if (sftpStatus(error) !== SFTP_STATUS.NO_SUCH_FILE) throw error;
    }
    if (stats) {
      if (!stats.isDirectory()) throw new DestinationError('write', `${path} on the SFTP server is not a directory`, { retryable: false });
      return;
    }
    const parent = posix.dirname(path);
    if (parent !== path) await this.ensureDirectory(parent);
    try {
      await this.call((done) => this.sftp.mkdir(path, done));
    } catch (error) {
      // Another writer may have created it in the meantime; SFTP v3 has no "already exists" status to tell.
      const now = await this.call<Stats>((done) => this.sftp.stat(path, done)).catch(() => undefined);
      if (!now?.isDirectory()) throw error;
    }
  }

  /**
   * Moves the finished file over the target in one step where the server can (OpenSSH's posix-rename, which is
   * rename(2)); plain SFTP rename refuses an existing target, so elsewhere the target is removed first.
   */
  private async replace(from: string, to: string): Promise<void> {
    try {
      await this.call((done) => this.sftp.ext_openssh_rename(from, to, done));
      return;
    } catch (error) {
      // ssh2 throws (rejecting here) before sending anything when the server lacks the extension.
      if (sftpStatus(error) !== undefined) throw error;
    }
    await this.call((done) => this.sftp.unlink(to, done)).catch((error: unknown) => {
      if (sftpStatus(error) !== SFTP_STATUS.NO_SUCH_FILE) throw error;
    });
    await this.call((done) => this.sftp.rename(from, to, done));
  }

  private failure(step: 'write' | 'read' | 'delete', error: unknown, path: string): unknown {
    return toSftpDestinationError(step, error, path, this.closed);
  }

  /** An ssh2 callback call as a promise; ssh2 throws synchronously on a closed channel, which rejects here too. */
  private call<T = void>(start: (done: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  }
}
