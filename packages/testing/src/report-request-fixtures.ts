import type { ReportRequest } from '@cdr-reports/domain';

/**
 * A parsed report request: acme's SMS of March 2026, fields id and start_time, UTC, gzip, no filters.
 * `changes` override any field.
 */
export function reportRequest(changes: Partial<ReportRequest> = {}): ReportRequest {
  return {
    product: 'SMS',
    account_id: 'acme',
    include_subaccounts: false,
    date_start: '2026-03-01T00:00:00Z',
    date_end: '2026-04-01T00:00:00Z',
    fields: ['id', 'start_time'],
    include_message: false,
    timezone: 'UTC',
    format: 'csv',
    compression: 'gzip',
    ...changes,
  };
}
