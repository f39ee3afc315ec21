import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';

/** One rejected record as written to a rejects file. */
export interface RejectedRow {
  /** Physical line (1-based) where the record starts in its file. */
  line: number;
  reason: string;
  /** The record's original text (the CSV record or the NDJSON line), without its line end. */
  row: string;
}

// Rejected lines are buffered and written in pieces of this size, not one write per row.
const FLUSH_BYTES = 256 * 1024;

/**
 * Writes rejected records as NDJSON to a file that is created on the first reject only, so a clean import
 * leaves no empty rejects file behind (and does not overwrite one from an earlier run for nothing).
 */
export class RejectsWriter {
  private stream: WriteStream | undefined;
  private pending = '';
  /** Rows written so far. */
  count = 0;

  constructor(readonly path: string) {}

  add(rejected: RejectedRow): void {
    this.pending += `${JSON.stringify(rejected)}\n`;
    this.count++;
  }

  /** Writes buffered rows once there are enough of them, waiting when the file stream is backed up. */
  async flushIfFull(): Promise<void> {
    if (this.pending.length >= FLUSH_BYTES) await this.flush();
  }

  /** Writes everything buffered and closes the file; returns whether a file was written. */
  async close(): Promise<boolean> {
    await this.flush();
    if (!this.stream) return false;
    const stream = this.stream;
    this.stream = undefined;
    stream.end();
    await once(stream, 'close');
    return true;
  }

  /** Abandons the output: the file, if one was started, is removed, since what it holds is incomplete. */
  async discard(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.pending = '';
    if (!stream) return;
    if (!stream.closed) {
      const closed = once(stream, 'close').catch(() => undefined);
      stream.destroy();
      await closed;
    }
    await rm(this.path, { force: true });
  }

  private async flush(): Promise<void> {
    if (this.pending === '') return;
    this.stream ??= createWriteStream(this.path);
    const text = this.pending;
    this.pending = '';
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}
