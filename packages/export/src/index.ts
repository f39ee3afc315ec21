export { exportReport, type ExportDependencies, type ExportJob, type ExportProgress, type ExportResult } from './report-exporter';
export type { ExportedFile } from './report-output';
export type { FileSplitLimits } from './split-limits';
export { sha256OfObject } from './sha256';
export { CsvRecordCounter } from './csv-record-counter';
export { timeSegments, DEFAULT_SEGMENT_MS } from './time-segments';
export { reportFileNaming, splitFileNaming, createCompressor, isSplitFileName, REPORT_FILE_NAME, type ReportFileNaming } from './report-file';
export { ParquetOutput, type ParquetOutputOptions } from './parquet-output';
export { PARQUET_CONTENT_TYPE } from './parquet-file-naming';
