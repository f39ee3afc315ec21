export { exportReport, type ExportDependencies, type ExportJob, type ExportProgress, type ExportResult } from './report-exporter';
export { CsvRecordCounter } from './csv-record-counter';
export { timeSegments, DEFAULT_SEGMENT_MS } from './time-segments';
export { reportFileNaming, createCompressor, type ReportFileNaming } from './report-file';
