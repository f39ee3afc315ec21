import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  /** zlib level, 1-9. */
  level: number;
  /** Uncompressed bytes per gzip member. Default 1 MiB. */
  blockSize?: number;
  /** Members compressed at once (on libuv's thread pool). Default 3. */
  parallel?: number;
}

/**
 * gzip on several cores: the input is cut into blocks, each compressed on its own as a complete gzip member
 * (zlib's async calls run on libuv's thread pool), and the members are written in order. A file of several
 * members is one valid gzip file (RFC 1952, section 2.2): gunzip, zcat, Node's zlib and Python's gzip read
 * it whole. Each member starts a fresh dictionary, which costs about 0.3% of size at 1 MiB blocks.
 * Memory stays bounded: at most `parallel` blocks in flight plus one being filled.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly parallel: number;
  private filling: Buffer[] = [];
  private filled = 0;
  private readonly inFlight: Array<Promise<Buffer>> = [];

  constructor(options: ParallelGzipOptions) {
    // A block's worth of room on each side: the reader and the writer are never held up by a small buffer.
    super({ writableHighWaterMark: 1024 * 1024, readableHighWaterMark: 1024 * 1024 });
    this.level = options.level;
    this.blockSize = options.blockSize ?? 1024 * 1024;
    this.parallel = options.parallel ?? 3;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.filling.push(chunk);
    this.filled += chunk.length;
    if (this.filled < this.blockSize) return done();
    this.submit();
    this.drainTo(this.parallel - 1).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.filled > 0 || this.inFlight.length === 0) this.submit();
    this.drainTo(0).then(() => done(), done);
  }

  private submit(): void {
    const block = Buffer.concat(this.filling, this.filled);
    this.filling = [];
    this.filled = 0;
    const member = gzipAsync(block, { level: this.level });
    // Rejections are taken up in order by drainTo; this keeps an early one from being reported as unhandled.
    member.catch(() => undefined);
    this.inFlight.push(member);
  }

  /** Writes finished members, in order, until at most `limit` remain in flight. */
  private async drainTo(limit: number): Promise<void> {
    while (this.inFlight.length > limit) this.push(await this.inFlight.shift()!);
  }
}
