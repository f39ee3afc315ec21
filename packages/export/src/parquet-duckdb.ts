/**
 * The Parquet writer: DuckDB (its C++ CSV reader and Parquet writer, through @duckdb/node-api), in this process.
 * One COPY turns a typed CSV (cdr-store's typed-csv-queries.ts: no header, raw values, UTC timestamps with six
 * fraction digits, NULL unquoted and empty, '' as "") into one Parquet file, between two paths: regular files or
 * FIFOs (parquet-streamed-file.ts). Chosen by measurement over the JavaScript writers (README, design notes):
 * about 3 us per CDR row against 15-30, off the event loop.
 *
 * DuckDB runs a query on the calling thread, here one of libuv's pool (4 threads unless UV_THREADPOOL_SIZE says
 * otherwise), for as long as the COPY lasts; the process also needs that pool (DNS lookups of the uploads, zlib,
 * files). So at most half of it runs COPYs at once (COPY_SLOTS): a file takes a slot (acquireCopySlot) before
 * it starts anything that could hold a thread of the pool, and gives it back once its COPY has ended.
 */
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ParquetColumn, ParquetColumnType } from '@cdr-reports/domain';
import { parquetTempRoot } from './parquet-temp';

/**
 * Rows of one row group. DuckDB reads and writes 2,048 rows at a time and holds a row group in memory until it is
 * written, so what fits in MEMORY_LIMIT depends on how wide the records are. CDRs without their message body are
 * a few hundred bytes: 10,240 rows (about 3 MiB) keep files compact (fewer, larger groups) and take records
 * averaging up to about 700 bytes. A message body has no bound: with it, groups of 2,048 rows take records
 * averaging up to about 2 KiB. Wider records fail the report with DuckDB's out-of-memory error (the report's
 * error says so) rather than take the worker's memory. Measured with scratch runs of one COPY, 2026-12-07.
 */
const ROW_GROUP_ROWS = 10_240;
const ROW_GROUP_ROWS_WITH_MESSAGE_BODY = 2_048;
/**
 * No bloom filters (DuckDB writes one per dictionary-encoded column chunk by default). A reader filters those
 * chunks exactly by their dictionary already, and a writer holds every filter in memory until the file ends (they
 * are written before the footer): with 10,240-row groups about 1.2 MiB more per million rows. What still grows
 * with the file is the footer itself (one entry per column chunk, about 1.3 MiB per million rows), which every
 * Parquet writer keeps until the end. Measured with scratch runs of one COPY, 2026-12-08.
 */
const BLOOM_FILTERS = false;
/** zstd level of the column chunks (zstd's own default; higher levels cost time for little). */
const ZSTD_LEVEL = 3;
/**
 * DuckDB's memory for every COPY of the process at once (its buffer manager: row groups, CSV buffers); what does
 * not fit goes to its temporary folder. Reading a FIFO, DuckDB's CSV reader keeps every buffer it has read until
 * the COPY ends (it cannot read a pipe twice; duckdb/duckdb#25165), so past this much they are written to that
 * folder: about the size of the file's typed CSV on disk (1 GB for 5M CDRs), removed when the COPY ends.
 * 64 MB held about 40 MiB more at a worker's peak than 40 MB, for no measurable speed.
 */
const MEMORY_LIMIT = '40MB';
/** The longest record (one CDR with its message body) the CSV reader takes; a longer one fails the report. */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** The CSV reader's buffer: at least two records of the longest. */
const CSV_BUFFER_BYTES = 2 * MAX_RECORD_BYTES;
/**
 * DuckDB's allocator (jemalloc, linked into its library on Linux) keeps freed pages for ten seconds by default, for
 * reuse: across a COPY's row groups that is about 6 MiB more at the peak. Returned at once instead, unless the
 * deployment sets its own configuration (DuckDB's variable, read when its library loads, see duckdb()).
 */
const JEMALLOC_CONF = 'dirty_decay_ms:0,muzzy_decay_ms:0';

// libuv's own variable, read by libuv when the pool starts (not this service's configuration): the size it has.
// eslint-disable-next-line no-restricted-properties
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;
/** COPYs running at once in this process: half of libuv's pool, so that the rest of the process keeps the other half. */
const COPY_SLOTS = Math.max(1, Math.floor(POOL_THREADS / 2));

let instance: Promise<DuckDBInstance> | undefined;

/**
 * The process's DuckDB, loaded with the first Parquet file (a worker that writes none never maps its 60 MB
 * library): in memory, one thread per query, its temporary folder in the process's own (parquetTempRoot), no
 * extension downloaded or loaded on its own.
 */
function duckdb(): Promise<DuckDBInstance> {
  if (instance) return instance;
  // Not this service's configuration: the environment of the library about to load.
  // eslint-disable-next-line no-restricted-properties
  process.env.DUCKDB_JE_MALLOC_CONF ??= JEMALLOC_CONF;
  instance = import('@duckdb/node-api').then(({ DuckDBInstance }) => {
    return DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: MEMORY_LIMIT,
      temp_directory: join(parquetTempRoot(), 'duckdb'),
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
  }).catch((error: unknown) => {
    instance = undefined;
    throw error;
  });
  return instance;
}

/** A FIFO queue of slots: what keeps COPYs from taking the whole thread pool. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(count: number) {
    this.free = count;
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

const slots = new Slots(COPY_SLOTS);

/** Waits for one of the process's COPY slots; resolves with the function that gives it back (once is enough). */
export function acquireCopySlot(): Promise<() => void> {
  return slots.acquire();
}

/** Rows per row group for these columns (see ROW_GROUP_ROWS). */
function rowGroupRows(columns: readonly ParquetColumn[]): number {
  return columns.some((column) => column.name === 'message_body') ? ROW_GROUP_ROWS_WITH_MESSAGE_BODY : ROW_GROUP_ROWS;
}

/** A SQL string literal. */
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** DuckDB's type for a Parquet column type (see the domain's parquet-columns.ts for what each becomes in the file). */
function duckdbType(type: ParquetColumnType): string {
  switch (type.kind) {
    case 'string':
      return 'VARCHAR';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'date':
      return 'DATE';
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
  }
}

export interface CsvToParquet {
  columns: readonly ParquetColumn[];
  /** The file's key-value metadata. */
  metadata: Record<string, string>;
  /** Path of the typed CSV (a file or a FIFO). */
  input: string;
  /** Path of the Parquet file to write (a file or a FIFO). */
  output: string;
  /** Only the first `limit` records of the input. Default: all. */
  limit?: number;
}

/**
 * The COPY statement: the CSV read exactly as PostgreSQL writes it (nothing detected or guessed, one record per
 * line end outside quotes, a malformed record an error rather than skipped), in order (one thread, insertion
 * order kept), written with zstd and no bloom filters.
 */
function copySql({ columns, metadata, input, output, limit }: CsvToParquet): string {
  const struct = (entries: Array<[string, string]>) => `{${entries.map(([key, value]) => `${literal(key)}: ${value}`).join(', ')}}`;
  const types = struct(columns.map((column) => [column.name, literal(duckdbType(column.type))]));
  const read =
    `read_csv(${literal(input)}, columns = ${types}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', ` +
    `new_line = '\\n', allow_quoted_nulls = false, parallel = false, strict_mode = true, ` +
    `max_line_size = ${MAX_RECORD_BYTES}, buffer_size = ${CSV_BUFFER_BYTES})`;
  const select = `SELECT * FROM ${read}${limit === undefined ? '' : ` LIMIT ${Math.floor(limit)}`}`;
  const kv = struct(Object.entries(metadata).map(([key, value]) => [key, literal(value)]));
  return (
    `COPY (${select}) TO ${literal(output)} ` +
    `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ZSTD_LEVEL}, ROW_GROUP_SIZE ${rowGroupRows(columns)}, WRITE_BLOOM_FILTER ${BLOOM_FILTERS}, KV_METADATA ${kv})`
  );
}

/** DuckDB failed to write a Parquet file (its message says why: a malformed record, memory, a closed stream). */
class ParquetWriteError extends Error {
  constructor(cause: unknown) {
    super(`the Parquet file could not be written: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ParquetWriteError';
  }
}

/**
 * Runs one COPY (see copySql), holding a slot the caller has acquired; resolves with the rows written once the
 * file is complete and closed. An abort interrupts DuckDB (the COPY then fails).
 */
export async function copyCsvToParquet(job: CsvToParquet, signal: AbortSignal): Promise<number> {
  signal.throwIfAborted();
  const connection = await (await duckdb()).connect();
  const interrupt = () => connection.interrupt();
  signal.addEventListener('abort', interrupt);
  try {
    const result = await connection.run(copySql(job));
    return result.rowsChanged;
  } catch (error) {
    throw signal.aborted ? signal.reason : new ParquetWriteError(error);
  } finally {
    signal.removeEventListener('abort', interrupt);
    connection.closeSync();
  }
}
