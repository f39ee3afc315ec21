// The least maxFileBytes is the request's (MIN_FILE_BYTES): a file must hold a few blocks, or most of it would be
// headers and slack.
import { MIN_FILE_BYTES, UnrecoverableJobError } from '@cdr-reports/domain';

const MIB = 1024 * 1024;

export interface FileSplitLimits {
  /** Most data rows in one file (the header row not counted), at least 1. Default: no limit. */
  maxFileRows?: number;
  /** Most bytes of one stored (compressed) file, at least 1 MiB. Default: no limit. */
  maxFileBytes?: number;
}

/** Uncompressed bytes per block (and gzip member), as ParallelGzip: big enough for compression, small for memory. */
const BLOCK_BYTES = MIB;

/** Rejects limits no file can keep; no retry changes them, so the job fails at once. */
export function checkLimits(limits: FileSplitLimits): void {
  const { maxFileRows, maxFileBytes } = limits;
  if (maxFileRows === undefined && maxFileBytes === undefined) throw new UnrecoverableJobError('limits needs maxFileRows or maxFileBytes');
  if (maxFileRows !== undefined && !(Number.isSafeInteger(maxFileRows) && maxFileRows >= 1)) {
    throw new UnrecoverableJobError(`maxFileRows must be an integer of at least 1, got ${maxFileRows}`);
  }
  if (maxFileBytes !== undefined && !(Number.isSafeInteger(maxFileBytes) && maxFileBytes >= MIN_FILE_BYTES)) {
    throw new UnrecoverableJobError(`maxFileBytes must be an integer of at least ${MIN_FILE_BYTES} (1 MiB), got ${maxFileBytes}`);
  }
}

/**
 * Uncompressed bytes per block: about 1 MiB, but at most half a file, so that even an incompressible block
 * (whose gzip member is a few bytes larger than the block) fits in a fresh file after its header. Only a
 * single row larger than that can then fail to fit, and the file sink reports it.
 */
export function splitBlockBytes(limits: FileSplitLimits): number {
  return limits.maxFileBytes === undefined ? BLOCK_BYTES : Math.min(BLOCK_BYTES, Math.floor(limits.maxFileBytes / 2));
}

/**
 * The uncompressed bytes (header row included) a zip file may hold so that the archive cannot exceed
 * `maxFileBytes` whatever the data: archiver streams the entry, so its compressed size is known only once
 * written, and the file must be cut before. What is kept back: the zip structures (local header, data
 * descriptor, central directory and end records, zip64 extras; about 120 bytes plus the entry name twice,
 * measured) and deflate's worst case on incompressible data, 5 bytes per 16 KiB stored block (zlib's
 * deflateBound). CSV compresses 5-10 times, so zip files come out well under the limit: the price of
 * a guarantee on a stream whose compressed size is known only afterwards.
 */
export function zipFileBudget(maxFileBytes: number, entryName: string): number {
  const structures = 2 * Buffer.byteLength(entryName) + 512;
  const available = maxFileBytes - structures;
  // raw + raw/4096 + raw/16384 (+ raw/2^25 + 7, covered by the rounding margin) <= available
  return Math.floor(((available - 64) * 16_384) / 16_390);
}
