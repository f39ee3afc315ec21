import { ValidationError, parseReportRequest, type ReportRequestContext } from '@cdr-reports/domain';

const context: ReportRequestContext = {
  principalAccountId: 'acme',
  now: new Date('2026-06-15T12:00:00Z'),
  oldestDateStart: new Date('2025-05-15T12:00:00Z'),
};
const body = (changes: Record<string, unknown>) => ({ product: 'SMS', date_start: '2026-06-01T00:00:00Z', date_end: '2026-06-02T00:00:00Z', ...changes });

function problemsOf(input: unknown) {
  try {
    parseReportRequest(input, context);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.invalidParams;
  }
}

describe('parseReportRequest: format parquet', () => {
  it('compresses a Parquet report with zstd, inside the file', () => {
    expect(parseReportRequest(body({ format: 'parquet' }), context)).toMatchObject({ format: 'parquet', compression: 'zstd' });
  });

  it.each(['zip', 'gzip', 'zstd'])('refuses compression %s beside it, naming both fields', (compression) => {
    expect(problemsOf(body({ format: 'parquet', compression }))).toEqual(
      expect.arrayContaining([
        { name: 'compression', reason: expect.stringContaining('parquet') },
        { name: 'format', reason: expect.stringContaining(compression) },
      ]),
    );
  });
});
