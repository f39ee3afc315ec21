import type { ReportRequest } from '@cdr-reports/domain';
import { MAX_SEGMENTS, triage } from '../src/triage';

const request = (overrides: Partial<ReportRequest> = {}) => ({ compression: 'gzip', ...overrides }) as ReportRequest;
const thresholds = { largeRows: 250_000, fanOutRows: 2_000_000, segmentRows: 1_000_000 };

describe('triage', () => {
  it('builds a small report where it is', () => {
    expect(triage(request(), 1_000, thresholds)).toEqual({ path: 'here', estimatedRows: 1_000 });
    expect(triage(request(), 250_000, thresholds)).toEqual({ path: 'here', estimatedRows: 250_000 });
  });

  it('sends a report above REPORT_LARGE_ROWS to the large lane', () => {
    expect(triage(request(), 250_001, thresholds)).toEqual({ path: 'large-lane', estimatedRows: 250_001 });
  });

  it('fans a gzip report of records above REPORT_FANOUT_ROWS out into 2 to 64 segments of about REPORT_SEGMENT_ROWS', () => {
    expect(triage(request(), 2_000_001, thresholds)).toEqual({ path: 'fan-out', estimatedRows: 2_000_001, segments: 3 });
    expect(triage(request(), 1e12, thresholds)).toEqual({ path: 'fan-out', estimatedRows: 1e12, segments: MAX_SEGMENTS });
    expect(triage(request(), 2_000_001, { ...thresholds, segmentRows: 1e9 })).toMatchObject({ path: 'fan-out', segments: 2 });
  });

  it('never fans out a zip or a usage report: they go to the large lane', () => {
    expect(triage(request({ compression: 'zip' }), 5_000_000, thresholds)).toEqual({ path: 'large-lane', estimatedRows: 5_000_000 });
    expect(triage(request({ type: 'usage' }), 5_000_000, thresholds)).toEqual({ path: 'large-lane', estimatedRows: 5_000_000 });
  });

  it('never fans out a Parquet report, whatever its compression says', () => {
    expect(triage(request({ format: 'parquet', compression: 'zstd' }), 5_000_000, thresholds)).toEqual({ path: 'large-lane', estimatedRows: 5_000_000 });
    expect(triage(request({ format: 'parquet' }), 5_000_000, thresholds)).toEqual({ path: 'large-lane', estimatedRows: 5_000_000 });
  });
});
