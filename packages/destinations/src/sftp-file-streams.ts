import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

/** Below every server's write limit (OpenSSH's is 255 KiB; SFTP's minimum is 32 KiB). */
const WRITE_SLICE = 32 * 1024;
/**
 * WRITE requests awaiting their answer. ssh2's own stream sends one at a time, so a long-distance server would
 * take a round trip per 32 KiB; this keeps up to 16 x 32 KiB (512 KiB) on the wire, which fills ~100 Mbit/s at 40 ms.
 */
const MAX_IN_FLIGHT = 16;
const READ_SIZE = 64 * 1024;

/**
 * Writes into an open SFTP file handle with several requests in flight, at increasing offsets. Resolves its
 * `finish` only once the server has acknowledged every byte. Closing the handle is the caller's job.
 */
export class SftpFileWriter extends Writable {
  private position = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  /** A write's callback, held until a request slot is free. */
  private waitingWrite: ((error?: Error | null) => void) | undefined;
  /** `_final`'s callback, held until the last answer is in. */
  private waitingFinal: ((error?: Error | null) => void) | undefined;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
  ) {
    super({ highWaterMark: WRITE_SLICE * 4 });
  }

  /** Bytes handed to the server; after `finish`, bytes the server acknowledged. */
  get bytesWritten(): number {
    return this.position;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure) return callback(this.failure);
    for (let offset = 0; offset < chunk.length; offset += WRITE_SLICE) {
      this.send(chunk.subarray(offset, Math.min(offset + WRITE_SLICE, chunk.length)));
    }
    if (this.inFlight < MAX_IN_FLIGHT) callback();
    else this.waitingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.failure || this.inFlight === 0) callback(this.failure);
    else this.waitingFinal = callback;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Answers still on their way after a destroy (an abort) must not call back into a finished stream.
    this.waitingWrite = undefined;
    this.waitingFinal = undefined;
    callback(error);
  }

  private send(slice: Buffer): void {
    const position = this.position;
    this.position += slice.length;
    this.inFlight += 1;
    this.sftp.write(this.handle, slice, 0, slice.length, position, (error) => {
      this.inFlight -= 1;
      if (error) this.failure ??= error;
      if (this.waitingWrite && (this.failure || this.inFlight < MAX_IN_FLIGHT)) {
        const release = this.waitingWrite;
        this.waitingWrite = undefined;
        release(this.failure);
      }
      if (this.waitingFinal && (this.failure || this.inFlight === 0)) {
        const release = this.waitingFinal;
        this.waitingFinal = undefined;
        release(this.failure);
      }
    });
  }
}

/**
 * Reads an open SFTP file handle from the start to the end, closing the handle when done or destroyed. A failure
 * mid-way is passed through `mapError` (into the session's DestinationError) before the stream fails with it.
 */
export class SftpFileReader extends Readable {
  private position = 0;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly handle: Buffer,
    private readonly mapError: (error: Error) => Error,
  ) {
    super({ highWaterMark: READ_SIZE });
  }

  override _read(): void {
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    this.sftp.read(this.handle, buffer, 0, READ_SIZE, this.position, (error, bytesRead) => {
      if (error) return this.destroy(this.mapError(error));
      // ssh2 answers the end of the file with 0 bytes.
      if (bytesRead === 0) return this.push(null);
      this.position += bytesRead;
      this.push(buffer.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sftp.close(this.handle, () => callback(error));
  }
}
