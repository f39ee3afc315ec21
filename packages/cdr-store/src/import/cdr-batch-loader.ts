/**
 * Loads batches of COPY text into the cdrs table inside the caller's transaction, in one of two modes:
 *
 * - `copy`: a plain `COPY cdrs FROM STDIN` per batch, the fast path for records the store has never seen.
 *   A key that exists already (in the table, earlier in the input, or twice in a batch) fails the COPY with
 *   unique_violation, which aborts the transaction: the loader throws {@link DuplicateRecordsError} and the
 *   caller starts the input over in `staging` mode.
 * - `staging`: each batch is copied into a temporary table and moved with `INSERT ... SELECT DISTINCT ON ...
 *   ON CONFLICT DO NOTHING`, which keeps the first record of each (id, start_time) and counts exactly what
 *   was inserted. About 30% slower, and never fails on a duplicate.
 *
 * No savepoint per batch: each would be a subtransaction, and past 64 of them in one transaction PostgreSQL's
 * subtransaction cache overflows and every other session's visibility checks slow down for the import's duration.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool, PoolClient } from '@cdr-reports/db';
import { ensurePartitions, partitionFor, partitionsBetween, type Partition } from '../partitions';
import { CDR_COPY_COLUMNS } from './copy-format';

export type CdrLoadMode = 'copy' | 'staging';

export interface CdrBatchLoaderOptions {
  /** Records per COPY batch. Default 20,000 (about 6 MB of COPY text). */
  batchRows?: number;
}

/** A `copy` mode batch met a record whose key is already stored or repeated: start over in `staging` mode. */
export class DuplicateRecordsError extends Error {
  override name = 'DuplicateRecordsError';
}

const UNIQUE_VIOLATION = '23505';
const STAGING = 'cdr_import_staging';
// A batch whose start times span more months than this gets partitions for the months it holds, not for every
// month in between: one record dated 1999 in a 2026 file must not create 300 empty partitions.
const MAX_PARTITION_SPAN = 12;
const INITIAL_BUFFER_BYTES = 8 * 1024 * 1024;
// PostgreSQL reads a whole CopyData message before it parses any of it: modest messages let it work on one
// while the next is on the wire. They need not end at line boundaries.
const COPY_MESSAGE_BYTES = 64 * 1024;

function* messages(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += COPY_MESSAGE_BYTES) yield data.subarray(at, at + COPY_MESSAGE_BYTES);
}

export class CdrBatchLoader {
  /** Records that went into the table. */
  inserted = 0;
  /** Records skipped because their (id, start_time) was already in the table or earlier in the input. */
  alreadyPresent = 0;
  /** Partitions this loader created, in the caller's transaction. */
  readonly partitionsCreated: string[] = [];

  private readonly batchRows: number;
  // COPY text is encoded into a buffer as records arrive: a batch-long string would keep every line alive
  // (and promoted by the garbage collector) until the flush.
  private buffer = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  private used = 0;
  private startTimes: number[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown;
  private stagingReady = false;
  // Months whose partition this loader has made sure of: most batches need no catalog query at all.
  private readonly ensuredMonths = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly client: PoolClient,
    readonly mode: CdrLoadMode,
    options: CdrBatchLoaderOptions = {},
  ) {
    this.batchRows = options.batchRows ?? 20_000;
  }

  /** Queues one record: its COPY text line and its start_time in epoch milliseconds. */
  add(copyLine: string, startTimeMs: number): void {
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    const room = copyLine.length * 3;
    if (this.buffer.length - this.used < room) this.grow(room);
    this.used += this.buffer.write(copyLine, this.used);
    this.startTimes.push(startTimeMs);
  }

  /**
   * When the current batch is full, waits for the previous one to finish loading and starts loading this one
   * without waiting for it, so the database loads one batch while the caller parses the next.
   */
  async flushIfFull(): Promise<void> {
    if (this.startTimes.length >= this.batchRows) await this.startFlush();
  }

  /** Loads what is queued and waits until everything is in the table (the caller then commits). */
  async finish(): Promise<void> {
    if (this.startTimes.length > 0) await this.startFlush();
    await this.inflight;
    this.throwFailure();
  }

  /** Waits for a batch still loading, ignoring its outcome: call before rolling back after another error. */
  async settle(): Promise<void> {
    await this.inflight;
  }

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + room));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }

  private async startFlush(): Promise<void> {
    await this.inflight;
    this.throwFailure();
    const data = this.buffer.subarray(0, this.used);
    const startTimes = this.startTimes;
    // A fresh buffer: the full one is being sent while the next batch is encoded.
    this.buffer = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER_BYTES, this.used + (this.used >> 3)));
    this.used = 0;
    this.startTimes = [];
    // The rejection is kept and rethrown by the next flush or finish: a promise nobody awaits must not reject.
    this.inflight = this.load(data, startTimes).catch((error: unknown) => {
      this.failure = error;
    });
  }

  private throwFailure(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async load(data: Buffer, startTimes: number[]): Promise<void> {
    await this.createPartitions(startTimes);
    const rows = startTimes.length;
    if (this.mode === 'copy') {
      try {
        await this.copy(`COPY cdrs (${CDR_COPY_COLUMNS}) FROM STDIN`, data);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw new DuplicateRecordsError('a record of this input is already stored or repeated', { cause: error });
        }
        throw error;
      }
      this.inserted += rows;
      return;
    }
    const inserted = await this.loadThroughStaging(data);
    this.inserted += inserted;
    this.alreadyPresent += rows - inserted;
  }

  private async loadThroughStaging(data: Buffer): Promise<number> {
    if (!this.stagingReady) {
      // The identity column keeps input order, so DISTINCT ON keeps the first of several records with one key.
      await this.client.query(`CREATE TEMP TABLE ${STAGING} (LIKE cdrs, seq bigint GENERATED ALWAYS AS IDENTITY) ON COMMIT DROP`);
      this.stagingReady = true;
    } else {
      await this.client.query(`TRUNCATE ${STAGING}`);
    }
    await this.copy(`COPY ${STAGING} (${CDR_COPY_COLUMNS}) FROM STDIN`, data);
    const result = await this.client.query(
      `INSERT INTO cdrs (${CDR_COPY_COLUMNS})
       SELECT DISTINCT ON (id, start_time) ${CDR_COPY_COLUMNS} FROM ${STAGING} ORDER BY id, start_time, seq
       ON CONFLICT DO NOTHING`,
    );
    return result.rowCount ?? 0;
  }

  private async copy(sql: string, data: Buffer): Promise<void> {
    await pipeline(Readable.from(messages(data)), this.client.query(copyFrom(sql)));
  }

  private async createPartitions(startTimes: number[]): Promise<void> {
    let min = Infinity;
    let max = -Infinity;
    for (const t of startTimes) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
    const span = partitionsBetween(new Date(min), new Date(max));
    if (span.length <= MAX_PARTITION_SPAN) {
      await this.ensure(span);
      return;
    }
    const months = new Map<string, Partition>();
    for (const t of startTimes) {
      const partition = partitionFor(new Date(t));
      months.set(partition.name, partition);
    }
    await this.ensure([...months.values()]);
  }

  private async ensure(partitions: readonly Partition[]): Promise<void> {
    for (const p of partitions) {
      if (this.ensuredMonths.has(p.name)) continue;
      this.partitionsCreated.push(...(await ensurePartitions(this.pool, p.from, p.from)));
      this.ensuredMonths.add(p.name);
    }
  }
}
