/**
 * Imports CDRs into the store: a file (CSV or NDJSON, plain or gzip) or records made in memory (the generator).
 * One transaction per input, so an input is loaded whole or not at all; COPY batches inside it.
 */
import { performance } from 'node:perf_hooks';
import type { CdrRecord } from '@cdr-reports/domain';
import type { Pool } from '@cdr-reports/db';
import { CdrBatchLoader, DuplicateRecordsError, type CdrBatchLoaderOptions, type CdrLoadMode } from './cdr-batch-loader';
import { isGzipFile, readTextChunks, UnreadableFileError } from './file-source';
import { ImportSession, type CdrRowError, type RawRecordText } from './import-session';
import { CsvRecordReader, NdjsonRecordReader, type RecordReader } from './record-readers';
import { RejectsWriter } from './rejects-writer';

export type { CdrLoadMode } from './cdr-batch-loader';

// About a millisecond's worth of records between event loop turns (see ImportSession.afterChunk).
const RECORDS_PER_TURN = 256;

export interface CdrImportOptions extends CdrBatchLoaderOptions {
  /**
   * Load the valid records and write the invalid ones, with their line and reason, to a rejects file.
   * Default false: one invalid record rejects the whole input and nothing of it is loaded.
   */
  skipInvalid?: boolean;
  /** The rejects file for `skipInvalid`. Default `<file>.rejects.ndjson` (for records: required with skipInvalid). */
  rejectsPath?: string;
  /** How many bad records a summary lists (all of them are counted). Default 20. */
  maxErrors?: number;
}

export type CdrInputFormat = 'csv' | 'ndjson' | 'records';

/** What became of one input. Always: rowsRead = inserted + alreadyPresent + rejected, when loaded. */
export interface CdrImportSummary {
  /** The file, or `records` for records given in memory. */
  source: string;
  /** Detected from the content; null when the file was empty. */
  format: CdrInputFormat | null;
  gzip: boolean;
  /** `loaded`: committed (bad records, if any, went to the rejects file). `rejected`: nothing was loaded. */
  status: 'loaded' | 'rejected';
  /**
   * `copy` when plain COPY loaded the input; `staging` when it held records already stored (or repeated)
   * and was read a second time through a staging table.
   */
  loadMode: CdrLoadMode;
  rowsRead: number;
  inserted: number;
  /** Records whose (id, start_time) was already stored, or came earlier in the same input. */
  alreadyPresent: number;
  rejected: number;
  /** The problem with the whole input first, if there is one; then the first bad records, in input order. */
  errors: CdrRowError[];
  /** The rejects file written, or null when none was (no bad record, or no skipInvalid). */
  rejectsFile: string | null;
  /** Monthly partitions created for this input (none when it was rejected: they were rolled back). */
  partitionsCreated: string[];
  elapsedMs: number;
}

/** Imports one CSV or NDJSON file, plain or gzip-compressed; the format is recognised from the content. */
export async function importCdrFile(pool: Pool, path: string, options: CdrImportOptions = {}): Promise<CdrImportSummary> {
  const started = performance.now();
  const gzip = await isGzipFile(path);
  const rejectsPath = options.skipInvalid ? (options.rejectsPath ?? `${path}.rejects.ndjson`) : undefined;
  let format: CdrInputFormat | null = null;
  const outcome = await importTwice(pool, rejectsPath, options, async (session) => {
    format = await feedFile(path, gzip, session);
  });
  return { source: path, format, gzip, ...outcome, elapsedMs: Math.round(performance.now() - started) };
}

/**
 * Imports records made in memory through the same validation and loading as files (the generator's --load).
 * `records` is called for a fresh iteration each time the input is read: once, or twice when it turns out
 * to hold records already stored. Synchronous, so producing a record costs no promise; `line` in errors is
 * the record's ordinal.
 */
export async function importCdrRecords(
  pool: Pool,
  records: () => Iterable<CdrRecord>,
  options: CdrImportOptions = {},
): Promise<CdrImportSummary> {
  const started = performance.now();
  if (options.skipInvalid && !options.rejectsPath) throw new Error('importCdrRecords: skipInvalid needs a rejectsPath');
  const outcome = await importTwice(pool, options.skipInvalid ? options.rejectsPath : undefined, options, async (session) => {
    let current: CdrRecord = {};
    const raw: RawRecordText = { rawRecord: () => JSON.stringify(current) };
    let ordinal = 0;
    for (const record of records()) {
      current = record;
      session.accept(record, ++ordinal, raw);
      if (ordinal % RECORDS_PER_TURN === 0) await session.afterChunk();
    }
  });
  return { source: 'records', format: 'records', gzip: false, ...outcome, elapsedMs: Math.round(performance.now() - started) };
}

type ImportOutcome = Pick<
  CdrImportSummary,
  'status' | 'loadMode' | 'rowsRead' | 'inserted' | 'alreadyPresent' | 'rejected' | 'errors' | 'rejectsFile' | 'partitionsCreated'
>;
type Feed = (session: ImportSession) => Promise<void>;

/** Loads with plain COPY; if the input holds a record already stored (or twice), starts over in staging mode. */
async function importTwice(pool: Pool, rejectsPath: string | undefined, options: CdrImportOptions, feed: Feed): Promise<ImportOutcome> {
  try {
    return await runImport(pool, 'copy', rejectsPath, options, feed);
  } catch (error) {
    if (!(error instanceof DuplicateRecordsError)) throw error;
    return runImport(pool, 'staging', rejectsPath, options, feed);
  }
}

/** Runs `feed` in a transaction that is committed only when the session is not doomed. */
async function runImport(
  pool: Pool,
  mode: CdrLoadMode,
  rejectsPath: string | undefined,
  options: CdrImportOptions,
  feed: Feed,
): Promise<ImportOutcome> {
  const client = await pool.connect();
  const loader = new CdrBatchLoader(pool, client, mode, options);
  const rejects = rejectsPath === undefined ? undefined : new RejectsWriter(rejectsPath);
  const session = new ImportSession(loader, rejects, options.maxErrors ?? 20);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await feed(session);
    const loaded = !session.doomed;
    if (loaded) await loader.finish();
    else await loader.settle();
    // The rejects file is complete before the commit: a good row must never be loaded while its bad
    // neighbours are lost.
    const rejectsFile = (await rejects?.close()) ? rejectsPath! : null;
    await client.query(loaded ? 'COMMIT' : 'ROLLBACK');
    return {
      status: loaded ? 'loaded' : 'rejected',
      loadMode: mode,
      rowsRead: session.rowsRead,
      inserted: loaded ? loader.inserted : 0,
      alreadyPresent: loaded ? loader.alreadyPresent : 0,
      rejected: session.rejected,
      errors: session.errors,
      rejectsFile,
      partitionsCreated: loaded ? loader.partitionsCreated : [],
    };
  } catch (error) {
    broken = error as Error;
    await loader.settle();
    await client.query('ROLLBACK').catch(() => undefined);
    await rejects?.discard();
    throw error;
  } finally {
    // A connection that failed mid-COPY is not worth reusing: hand it back for destruction.
    client.release(broken);
  }
}

/** Reads the file into the session; returns the format it recognised, or null for an empty file. */
async function feedFile(path: string, gzip: boolean, session: ImportSession): Promise<CdrInputFormat | null> {
  const chunks = readTextChunks(path, gzip);
  let reader: RecordReader | undefined;
  let format: CdrInputFormat | null = null;
  let head = '';
  try {
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      if (!reader) {
        // The first visible character tells the formats apart: a CSV header cannot start with "{".
        head += next.value;
        const first = /[^\s\uFEFF]/.exec(head);
        if (!first) continue;
        format = first[0] === '{' ? 'ndjson' : 'csv';
        reader = format === 'csv' ? new CsvRecordReader(session) : new NdjsonRecordReader(session);
        reader.push(head);
      } else {
        reader.push(next.value);
      }
      await session.afterChunk();
      if (session.fatal !== undefined) return format;
    }
    if (!reader) session.fail(1, 'the file is empty');
    else reader.end();
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    session.fail(reader?.nextLine ?? 1, error.message);
  } finally {
    await chunks.return(undefined);
  }
  return format;
}
