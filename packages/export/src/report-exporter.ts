import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { Pool, PoolClient } from '@cdr-reports/db';
import { addDecimals, type ReportFile, type ReportRequest, type ReportSummary } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import { attachmentDisposition, type ObjectStore } from '@cdr-reports/object-store';
import { CsvRecordCounter } from './csv-record-counter';
import { exportCopySql, summarySql, usageCopySql, type TimeRange } from './export-query';
import { createCompressor, reportFileNaming } from './report-file';
import { DEFAULT_SEGMENT_MS, timeSegments } from './time-segments';

export interface ExportDependencies {
  pool: Pool;
  store: ObjectStore;
  logger: Logger;
  /** zlib level for gzip and zip, 1-9. */
  compressionLevel: number;
  /** Length of one COPY segment in milliseconds. Default one day. */
  segmentMs?: number;
  /** Least time between two progress reports. Default 1 s. */
  progressIntervalMs?: number;
  /** Most rows between two progress reports. Default 50,000. */
  progressRows?: number;
}

export interface ExportProgress {
  /** Data rows written so far. */
  items: number;
  /** Share of the time range covered so far, 0-100. */
  percent: number;
}

export interface ExportJob {
  reportId: string;
  request: ReportRequest;
  /** The accounts whose records go in: account_id alone, or with all its descendants. */
  accountIds: readonly string[];
  /** Aborts the export: no object is left behind and exportReport rejects with an AbortError. */
  signal: AbortSignal;
  /** Called at least every second or 50k rows while rows flow, and once per segment. */
  onProgress(progress: ExportProgress): Promise<void>;
  /**
   * Export one part of a fanned-out report instead of the whole: its time range, whether it starts the file
   * (and so carries the header), and the object it is stored as. gzip only: gzip parts concatenate into one file.
   */
  part?: { range: TimeRange; header: boolean; key: string };
}

export interface ExportResult {
  itemsCount: number;
  summary: ReportSummary;
  fileKey: string;
  file: ReportFile;
}

/** The file and the summary disagree: a bug or a changed snapshot, never to be presented as complete. */
export class ExportIntegrityError extends Error {
  override name = 'ExportIntegrityError';
}

/**
 * Streams a report's rows out of PostgreSQL as CSV (one COPY per time segment, all in one REPEATABLE READ
 * snapshot, which a second connection shares to read the summary meanwhile), compresses them and uploads the
 * file in parts. Memory stays flat: bytes flow through with backpressure and nothing is held per row.
 * Resolves only once the whole object is stored.
 */
export async function exportReport(deps: ExportDependencies, job: ExportJob): Promise<ExportResult> {
  const { request } = job;
  const naming = reportFileNaming(job.reportId, request);
  if (job.part && request.compression !== 'gzip') throw new Error('only gzip reports are exported in parts');
  const range: TimeRange = job.part?.range ?? { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end };
  const header = job.part?.header ?? true;
  const headerRows = header ? 1 : 0;
  const key = job.part?.key ?? naming.key;
  // A usage report groups over the whole range at once; records stream one day at a time.
  const usage = request.type === 'usage';
  if (usage && job.part) throw new Error('usage reports are not exported in parts');
  const segments = usage ? [range] : reportSegments(range, deps.segmentMs ?? DEFAULT_SEGMENT_MS);
  const totalMs = range.to.getTime() - range.from.getTime();
  const intervalMs = deps.progressIntervalMs ?? 1_000;
  const progressRows = deps.progressRows ?? 50_000;

  const client = await deps.pool.connect();
  let clientBroken = false;
  const compressor = createCompressor(request.compression, deps.compressionLevel, naming.entryName);
  const upload = deps.store.putStream(key, compressor.output, {
    contentType: naming.contentType,
    contentDisposition: attachmentDisposition(naming.name),
    signal: job.signal,
  });
  // The upload may fail while we are still writing (S3 down): stop writing with its error.
  const uploadFailure = upload.then(
    () => undefined,
    (error: unknown) => {
      compressor.input.destroy(error as Error);
    },
  );

  try {
    const literal = (value: string) => client.escapeLiteral(value);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL TimeZone = ${literal(request.timezone)}`);
    if (usage) {
      // The groups of a busy hierarchy are sorted in memory rather than spilled to disk.
      await client.query(`SET LOCAL work_mem = '64MB'`);
    } else {
      // Rows stream from the first one: each segment is read in (start_time, id) order from the index
      // (one index scan per account, merged), never collected and sorted first, which would hold the
      // compressor idle at the start of every segment. No parallel workers, whose sort and merge compete with
      // the compressor for the same cores, and no JIT, whose compile time a day of rows does not pay back.
      await client.query('SET LOCAL enable_sort = off');
      await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
      await client.query('SET LOCAL jit = off');
    }
    // The summary is read on a second connection in the same snapshot, while the rows stream.
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const summaryRead = readSummaryInSnapshot(deps.pool, snapshot, summarySql(request, job.accountIds, range, literal));
    summaryRead.catch(() => undefined);

    const counter = new CsvRecordCounter();
    let rows = 0;
    let lastReport = Date.now();
    let rowsAtLastReport = 0;
    for (const [index, segment] of segments.entries()) {
      const sql = usage ? usageCopySql(request, job.accountIds, segment, literal) : exportCopySql(request, job.accountIds, segment, literal, header && index === 0);
      const copy = client.query(copyTo(sql)) as Readable & {
        rowCount: number;
      };
      clientBroken = true;
      for await (const chunk of copy) {
        if (job.signal.aborted) throw abortError();
        counter.push(chunk as Buffer);
        if (!compressor.input.write(chunk)) await drained(compressor.input);
        const now = Date.now();
        const items = Math.max(0, counter.records - headerRows);
        if (now - lastReport >= intervalMs || items - rowsAtLastReport >= progressRows) {
          const covered = segment.from.getTime() - range.from.getTime();
          await job.onProgress({ items, percent: (100 * covered) / totalMs });
          lastReport = now;
          rowsAtLastReport = items;
        }
      }
      clientBroken = false;
      rows += copy.rowCount;
      if (job.signal.aborted) throw abortError();
      await job.onProgress({ items: rows, percent: (100 * (segment.to.getTime() - range.from.getTime())) / totalMs });
      lastReport = Date.now();
      rowsAtLastReport = rows;
    }
    const summary = await summaryRead;
    await client.query('COMMIT');

    // A usage report's rows are groups; its summary still covers the records they were computed from.
    if ((!usage && rows !== summary.records) || counter.records - headerRows !== rows) {
      throw new ExportIntegrityError(
        `rows written (${rows}), CSV records counted (${counter.records - headerRows}) and summary (${summary.records}) disagree`,
      );
    }
    compressor.input.end();
    const stored = await upload;
    return {
      itemsCount: rows,
      summary,
      fileKey: key,
      file: { name: naming.name, size_bytes: stored.size, content_type: naming.contentType },
    };
  } catch (error) {
    compressor.input.destroy(error as Error);
    await uploadFailure;
    await upload.catch(() => undefined);
    throw error;
  } finally {
    if (clientBroken) {
      // A COPY cut off mid-stream leaves the connection in an unknown protocol state: close it.
      client.release(true);
    } else {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }
}

/** The segments of a report's range, whose outer edges keep the requested bounds to the microsecond. */
function reportSegments(range: TimeRange, segmentMs: number): TimeRange[] {
  const segments = timeSegments(range, segmentMs);
  // Bounds within one millisecond of each other (start ...0.000001, end ...0.000002) make no Date segment.
  if (segments.length === 0) segments.push({ from: range.from, to: range.to });
  segments[0]!.fromText = range.fromText;
  segments[segments.length - 1]!.toText = range.toText;
  return segments;
}

/**
 * Resolves when `stream` can take more; rejects when it is destroyed instead (the upload failed and tore the
 * compressor down), before or while waiting: a destroyed stream never emits 'drain', and waiting for one
 * would hang the report with its snapshot open.
 */
function drained(stream: NodeJS.WritableStream & { destroyed: boolean; errored: Error | null }): Promise<void> {
  if (stream.destroyed) return Promise.reject(stream.errored ?? new Error('the compressor was closed'));
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(stream.errored ?? new Error('the compressor was closed'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}

function abortError(): Error {
  return Object.assign(new Error('the report was aborted'), { name: 'AbortError' });
}

interface SummaryRow {
  currency: string | null;
  status: string | null;
  records: string;
  duration_seconds: string;
  billsec_seconds: string;
  total_price: string | null;
}

/** The summary query on its own connection, in the snapshot exported by the COPY's transaction. */
async function readSummaryInSnapshot(pool: Pool, snapshot: string, sql: string): Promise<ReportSummary> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`);
    await client.query(`SET LOCAL work_mem = '64MB'`);
    const summary = await readSummary(client, sql);
    await client.query('COMMIT');
    return summary;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function readSummary(client: PoolClient, sql: string): Promise<ReportSummary> {
  const result = await client.query<SummaryRow>(sql);
  const summary: ReportSummary = { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} };
  for (const row of result.rows) {
    const records = Number(row.records);
    summary.records += records;
    summary.duration_seconds += Number(row.duration_seconds);
    summary.billsec_seconds += Number(row.billsec_seconds);
    if (row.status !== null) summary.status[row.status] = (summary.status[row.status] ?? 0) + records;
    if (row.currency !== null) summary.total_price[row.currency] = addDecimals(summary.total_price[row.currency] ?? '0', row.total_price ?? '0');
  }
  return summary;
}
