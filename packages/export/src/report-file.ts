import { PassThrough, type Readable } from 'node:stream';
import archiver from 'archiver';
import type { Compression, ReportRequest } from '@cdr-reports/domain';
import { ParallelGzip } from './parallel-gzip';
import { isParquetNaming, parquetFileNaming, parquetSplitFileNaming } from './parquet-file-naming';

/** Name, key and type of a report's file in the bucket. */
export interface ReportFileNaming {
  /** The object's file name, also its Content-Disposition filename. */
  name: string;
  /** The object key: reports/{account_id}/{request_id}/{name}; the lifecycle rule expires reports/. */
  key: string;
  contentType: string;
  /** For zip: the CSV (or JSON Lines) file inside the archive. */
  entryName?: string;
}

/** yyyymmdd of the day `instant` falls on in `timeZone`. */
function dayIn(instant: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date(instant));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}${part('month')}${part('day')}`;
}

export function reportFileNaming(reportId: string, request: ReportRequest): ReportFileNaming {
  if (request.format === 'parquet') return parquetFileNaming(reportId, request);
  const base = request.type === 'usage' ? `usage_${request.product}_${reportId}` : `${request.product}_${reportId}`;
  const extension = request.format === 'jsonl' ? 'jsonl' : 'csv';
  if (request.compression === 'zip') {
    const name = `${base}.zip`;
    return {
      name,
      key: `reports/${request.account_id}/${reportId}/${name}`,
      contentType: 'application/zip',
      // The day the report starts on, in the report's own time zone (a Paris March report is dated 0301).
      entryName: `${request.type === 'usage' ? 'usage' : 'report'}_${request.product}_${request.account_id}_${dayIn(request.date_start, request.timezone)}.${extension}`,
    };
  }
  const name = `${base}.${extension}.gz`;
  // application/gzip and no Content-Encoding: clients must save the .gz, not silently inflate it.
  return { name, key: `reports/${request.account_id}/${reportId}/${name}`, contentType: 'application/gzip' };
}

/**
 * The names reportFileNaming and splitFileNaming give: `[usage_]PRODUCT_<request id>[_partNNNNN].(csv.gz|jsonl.gz|zip|parquet)`.
 * What is deleted as a stale file of an earlier attempt or run, in our bucket or a destination, must match it:
 * nothing else is ever deleted there.
 */
export const REPORT_FILE_NAME = /^(usage_)?[A-Z-]+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_part\d{5})?\.(csv\.gz|jsonl\.gz|zip|parquet)$/;

/** Whether `name` is a split file's name (`..._part00001.csv.gz` and the like). */
export function isSplitFileName(name: string): boolean {
  return REPORT_FILE_NAME.test(name) && /_part\d{5}\./.test(name);
}

/**
 * File `index` (from 1) of a report split into several files: `_part00001` before the extension of the file
 * (and, for zip, of its CSV entry), in the same folder as the single file would be.
 */
export function splitFileNaming(naming: ReportFileNaming, index: number): ReportFileNaming {
  if (isParquetNaming(naming)) return parquetSplitFileNaming(naming, index);
  const part = `_part${String(index).padStart(5, '0')}`;
  const extension = /\.[a-z]+(\.gz)?$/.exec(naming.name)![0];
  const name = `${naming.name.slice(0, -extension.length)}${part}${extension}`;
  const folder = naming.key.slice(0, naming.key.length - naming.name.length);
  const split: ReportFileNaming = { name, key: `${folder}${name}`, contentType: naming.contentType };
  if (naming.entryName !== undefined) split.entryName = naming.entryName.replace(/(\.[a-z]+)?$/, `${part}$1`);
  return split;
}

export interface Compressor {
  /** Write CSV bytes here. */
  input: NodeJS.WritableStream & PassThrough;
  /** The compressed file comes out here. */
  output: Readable;
}

/** A gzip stream (of several members, compressed in parallel), or a zip archive with one streamed CSV entry. */
export function createCompressor(compression: Compression, level: number, entryName?: string): Compressor {
  if (compression === 'gzip') {
    // Compression is the slowest stage of a report: spread over the thread pool, in gzip members.
    const gzip = new ParallelGzip({ level });
    const input = new PassThrough({ highWaterMark: 1024 * 1024 });
    input.pipe(gzip);
    input.on('error', (error) => gzip.destroy(error));
    return { input, output: gzip };
  }
  const archive = archiver('zip', { zlib: { level } });
  const input = new PassThrough({ highWaterMark: 256 * 1024 });
  archive.append(input, { name: entryName ?? 'report.csv' });
  void archive.finalize().catch(() => undefined);
  input.on('error', (error) => archive.destroy(error));
  return { input, output: archive };
}
