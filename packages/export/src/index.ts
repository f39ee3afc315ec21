export { exportReport, type ExportDependencies, type ExportJob, type ExportProgress, type ExportResult } from './report-exporter';
export type { ExportedFile } from './report-output';
export type { FileSplitLimits } from './split-limits';
export { MIN_SPLIT_FILE_BYTES } from './split-limits';
export { sha256OfObject } from './sha256';
export { CsvRecordCounter } from './csv-record-counter';
export { timeSegments, DEFAULT_SEGMENT_MS } from './time-segments';
export { reportFileNaming, splitFileNaming, createCompressor, type ReportFileNaming } from './report-file';
