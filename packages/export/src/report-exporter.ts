import type { CdrSource, TimeRange } from '@cdr-reports/cdr-store';
import { AbortedError, ExportIntegrityError, type ReportFile, type ReportRequest, type ReportSummary } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import { attachmentDisposition, type ObjectStore } from '@cdr-reports/object-store';
import { CsvRecordCounter } from './csv-record-counter';
import { createCompressor, reportFileNaming } from './report-file';
import { DEFAULT_SEGMENT_MS, timeSegments } from './time-segments';

export interface ExportDependencies {
  source: CdrSource;
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
  /** Called at least every second or 50k rows while rows flow, and once per segment that held rows. */
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

/**
 * Streams a report's rows out of the CDR source as CSV (one segment per day, all from one consistent read that
 * also gives the summary of the same rows), compresses them and uploads the file in parts.
 * Memory stays flat: bytes flow through with backpressure and nothing is held per row. Resolves only once the whole object is stored.
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

  const read = await deps.source.openReportRead({ request, accountIds: job.accountIds }, range);
  let readOpen = true;
  const compressor = createCompressor(request.compression, deps.compressionLevel, naming.entryName);
  const upload = deps.store.putStream(key, compressor.output, {
    contentType: naming.contentType,
    contentDisposition: attachmentDisposition(naming.name),
    signal: job.signal,
  });
  // The upload may fail while we are still writing (S3 down): stop writing with its error, which is then the
  // report's failure (the compressor's own error only echoes it).
  let uploadError: unknown;
  const uploadFailure = upload.then(
    () => undefined,
    (error: unknown) => {
      uploadError = error;
      compressor.input.destroy(error as Error);
    },
  );

  try {
    const counter = new CsvRecordCounter();
    let rows = 0;
    let lastReport = Date.now();
    let rowsAtLastReport = 0;
    for (const [index, segment] of segments.entries()) {
      const csv = read.segmentCsv(segment, header && index === 0);
      for await (const chunk of csv) {
        if (job.signal.aborted) throw new AbortedError('the report was aborted');
        counter.push(chunk);
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
      rows += csv.rows;
      if (job.signal.aborted) throw new AbortedError('the report was aborted');
      // Once per segment that held rows; the empty days of a long range only once a second (13 months of
      // mostly empty days would otherwise write hundreds of progress updates).
      if (csv.rows > 0 || Date.now() - lastReport >= intervalMs) {
        await job.onProgress({ items: rows, percent: (100 * (segment.to.getTime() - range.from.getTime())) / totalMs });
        lastReport = Date.now();
        rowsAtLastReport = rows;
      }
    }
    const summary: ReportSummary = await read.summary;
    readOpen = false;
    await read.close();

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
    // Taken before the upload is torn down below, which fails it too.
    const cause = uploadError ?? error;
    compressor.input.destroy(error as Error);
    await uploadFailure;
    await upload.catch(() => undefined);
    throw cause;
  } finally {
    if (readOpen) await read.close().catch(() => undefined);
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
