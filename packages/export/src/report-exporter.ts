import type { CdrSource, TimeRange } from '@cdr-reports/cdr-store';
import { AbortedError, ExportIntegrityError, UnrecoverableJobError, type ReportFile, type ReportRequest, type ReportSummary } from '@cdr-reports/domain';
import type { Logger } from '@cdr-reports/logging';
import type { ObjectStore } from '@cdr-reports/object-store';
import { recordLayout } from './record-framing';
import { ParquetOutput } from './parquet-output';
import { reportFileNaming } from './report-file';
import { SingleFileOutput, type ExportedFile, type ReportOutput } from './report-output';
import { SplitFilesOutput } from './split-files-output';
import { checkLimits, type FileSplitLimits } from './split-limits';
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
   * (and so carries the header, in CSV), and the object it is stored as. gzip only: gzip parts concatenate into one file.
   */
  part?: { range: TimeRange; header: boolean; key: string };
  /**
   * Split the report into several files, each complete alone (its own header row, whole rows, a valid gzip or
   * zip) and within both limits, named {name}_part00001.csv.gz (.jsonl.gz, .zip) in the folder of the single file.
   * Not with `part`. Default: one file, named and made as without this option.
   */
  limits?: FileSplitLimits;
}

export interface ExportResult {
  itemsCount: number;
  summary: ReportSummary;
  /** The first file's key (the only one unless limits split the report). */
  fileKey: string;
  /** The first file. */
  file: ReportFile;
  /** Every file, in order, with its rows and the sha256 of its bytes. */
  files: ExportedFile[];
}

/**
 * Streams a report's rows out of the CDR source as CSV or JSON Lines (one segment per day, all from one consistent
 * read that also gives the summary of the same rows), compresses them and uploads the file in parts; with `limits`, as
 * several files, each complete alone (see SplitFilesOutput). Every file's sha256 is taken as it is stored.
 * Memory stays flat: bytes flow through with backpressure and nothing is held per row. Resolves only once every
 * file is stored; on a failure or an abort, no file of this export is left.
 */
export async function exportReport(deps: ExportDependencies, job: ExportJob): Promise<ExportResult> {
  const { request } = job;
  const naming = reportFileNaming(job.reportId, request);
  if (job.part && request.compression !== 'gzip') throw new Error('only gzip reports are exported in parts');
  if (job.limits) {
    // A part is one slice of a file that the assembly concatenates; split files are each whole. Both at once has no meaning.
    if (job.part) throw new UnrecoverableJobError('a report exported in parts cannot also be split into files by limits');
    checkLimits(job.limits);
  }
  const range: TimeRange = job.part?.range ?? { from: new Date(request.date_start), to: new Date(request.date_end), fromText: request.date_start, toText: request.date_end };
  // JSON Lines has no header row, in any file or part; a Parquet file carries its columns in its schema (its typed
  // CSV has none either).
  const layout = recordLayout(request.format);
  const header = layout.header && (job.part?.header ?? true);
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
  const output: ReportOutput = request.format === 'parquet'
    ? new ParquetOutput({ store: deps.store, naming, request, ...(job.limits && { limits: job.limits }), signal: job.signal, logger: deps.logger })
    : job.limits
      ? new SplitFilesOutput({ store: deps.store, naming, compression: request.compression, level: deps.compressionLevel, limits: job.limits, ...layout, signal: job.signal, logger: deps.logger })
      : new SingleFileOutput({ store: deps.store, naming, key, compression: request.compression, level: deps.compressionLevel, header, framing: layout.framing, signal: job.signal, logger: deps.logger });

  try {
    let rows = 0;
    let lastReport = Date.now();
    let rowsAtLastReport = 0;
    for (const [index, segment] of segments.entries()) {
      const csv = read.segmentCsv(segment, header && index === 0);
      for await (const chunk of csv) {
        if (job.signal.aborted) throw new AbortedError('the report was aborted');
        const written = output.write(chunk);
        if (written) await written;
        const now = Date.now();
        const items = Math.max(0, output.records - headerRows);
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
    if ((!usage && rows !== summary.records) || output.records - headerRows !== rows) {
      throw new ExportIntegrityError(
        `rows written (${rows}), records counted (${output.records - headerRows}) and summary (${summary.records}) disagree`,
      );
    }
    const files = await output.finish();
    const filed = files.reduce((total, file) => total + file.rows, 0);
    if (filed !== rows) throw new ExportIntegrityError(`the files hold ${filed} rows but ${rows} were written`);
    const first = files[0]!;
    return {
      itemsCount: rows,
      summary,
      fileKey: first.key,
      file: { name: first.name, size_bytes: first.size_bytes, content_type: first.content_type },
      files,
    };
  } catch (error) {
    throw await output.abort(error);
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
