import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { RowBlock } from './row-blocks';

const gzipAsync = promisify(gzip);

/** A block of rows compressed as one complete gzip member. */
export interface GzipMember {
  member: Buffer;
  rows: number;
}

/**
 * Compresses row blocks as gzip members on libuv's thread pool, `parallel` at a time, and hands the members on
 * in block order, as ParallelGzip does for the single file; here each member keeps its row count, so that a
 * file sink can cut files between members. Memory: at most `parallel` blocks (and their members) in flight.
 */
export class GzipBlocks {
  private readonly inFlight: Array<Promise<GzipMember>> = [];

  constructor(
    private readonly options: { level: number; parallel: number },
    /** Takes the next member, in order; the next one waits until it resolves. */
    private readonly deliver: (member: GzipMember) => Promise<void>,
  ) {}

  /** Starts compressing `block`; resolves once fewer than `parallel` blocks are left in flight. */
  async add(block: RowBlock): Promise<void> {
    const { rows } = block;
    // The closure keeps the row count only: the block's bytes are freed once compressed.
    const member = gzipAsync(block.data, { level: this.options.level }).then((bytes) => ({ member: bytes, rows }));
    // Rejections are taken up in order by drainTo; this keeps an early one from being reported as unhandled.
    member.catch(() => undefined);
    this.inFlight.push(member);
    await this.drainTo(this.options.parallel - 1);
  }

  /** Delivers every member still in flight. */
  flush(): Promise<void> {
    return this.drainTo(0);
  }

  private async drainTo(limit: number): Promise<void> {
    while (this.inFlight.length > limit) await this.deliver(await this.inFlight.shift()!);
  }
}
