export { ensurePartitions, listPartitions, partitionFor, partitionsBetween, type Partition } from './partitions';
export { dropExpiredPartitions, retentionCutoff } from './retention';
export {
  importCdrFile,
  importCdrRecords,
  type CdrImportOptions,
  type CdrImportSummary,
  type CdrInputFormat,
  type CdrLoadMode,
} from './import/cdr-importer';
export type { CdrRowError } from './import/import-session';
export { CsvParser, type CsvRecordSink } from './import/csv-parser';
export { generateCdrs, defaultGenerationRange, type CdrGeneratorOptions } from './generate/cdr-generator';
export { writeCdrs, csvLine, csvHeader, ndjsonLine, type CdrFileFormat, type WriteCdrsOptions } from './generate/cdr-file-writer';
export type { CdrSource, CdrSelection, ReportRead, CsvSegment, RecordsPageRead, SourceRow, RecordPosition, TimeRange } from './source/cdr-source';
export { PostgresCdrSource } from './source/postgres-cdr-source';
// The SQL itself, for its unit tests and the benchmark's psql baseline.
export { exportCopySql, summarySql, usageSelectSql, recordsPageSql, readPlan, MERGED_SCAN_MAX_ACCOUNTS, type ReadPlan } from './source/cdr-queries';
export { jsonlCopySql } from './source/jsonl-queries';
export { typedExportCopySql, typedUsageCopySql } from './source/typed-csv-queries';
