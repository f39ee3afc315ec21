export { exportReport, ExportIntegrityError, type ExportDependencies, type ExportJob, type ExportProgress, type ExportResult } from './report-exporter';
export {
  exportCopySql,
  summarySql,
  estimateSql,
  usageSelectSql,
  usageCopySql,
  recordsPageSql,
  recordsByIdSql,
  type TimeRange,
  type Literal,
  type RecordPosition,
} from './export-query';
export { estimateReportRows } from './report-size';
export { CsvRecordCounter } from './csv-record-counter';
export { timeSegments, DEFAULT_SEGMENT_MS } from './time-segments';
export { reportFileNaming, createCompressor, type ReportFileNaming } from './report-file';
