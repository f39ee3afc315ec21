import type { ReportRequest } from '@cdr-reports/domain';
import type { ReportFileNaming } from './report-file';

/** The media type registered for Parquet (IANA, 2024). */
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';
const EXTENSION = '.parquet';

/** A Parquet report's file: {PRODUCT}_{id}.parquet (usage_{PRODUCT}_{id}.parquet), in the report's folder. */
export function parquetFileNaming(reportId: string, request: ReportRequest): ReportFileNaming {
  const base = request.type === 'usage' ? `usage_${request.product}_${reportId}` : `${request.product}_${reportId}`;
  const name = `${base}${EXTENSION}`;
  return { name, key: `reports/${request.account_id}/${reportId}/${name}`, contentType: PARQUET_CONTENT_TYPE };
}

/** Whether `naming` is a Parquet file's. */
export function isParquetNaming(naming: ReportFileNaming): boolean {
  return naming.name.endsWith(EXTENSION);
}

/** File `index` (from 1) of a Parquet report split into files: {PRODUCT}_{id}_part00001.parquet, in the same folder. */
export function parquetSplitFileNaming(naming: ReportFileNaming, index: number): ReportFileNaming {
  const name = `${naming.name.slice(0, -EXTENSION.length)}_part${String(index).padStart(5, '0')}${EXTENSION}`;
  const folder = naming.key.slice(0, naming.key.length - naming.name.length);
  return { name, key: `${folder}${name}`, contentType: naming.contentType };
}
