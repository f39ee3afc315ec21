import { decimalBytes, describeParquetType, manifestColumns, parquetColumns, type ReportRequest } from '@cdr-reports/domain';

const request = (changes: Partial<ReportRequest>): ReportRequest => ({
  product: 'VOICE-CALL',
  account_id: 'acme',
  include_subaccounts: false,
  date_start: '2026-03-01T00:00:00Z',
  date_end: '2026-04-01T00:00:00Z',
  fields: [],
  include_message: false,
  timezone: 'UTC',
  format: 'parquet',
  compression: 'zstd',
  ...changes,
});

describe('parquetColumns', () => {
  it('sizes decimals to the smallest two’s complement that holds their precision', () => {
    expect([1, 2, 5, 9, 18, 19, 20, 38].map(decimalBytes)).toEqual([1, 1, 3, 4, 8, 9, 9, 16]);
  });

  it('types the columns of a report of records, REQUIRED unless the column may be NULL', () => {
    const columns = parquetColumns(request({ fields: ['id', 'start_time', 'answer_time', 'duration', 'parts', 'price', 'client_ref'] }));
    expect(columns.map((column) => ({ name: column.name, ...describeParquetType(column) }))).toEqual([
      { name: 'id', physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'REQUIRED' },
      { name: 'start_time', physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition: 'REQUIRED' },
      { name: 'answer_time', physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition: 'OPTIONAL' },
      { name: 'duration', physical: 'INT32', logical: null, repetition: 'REQUIRED' },
      { name: 'parts', physical: 'INT32', logical: null, repetition: 'OPTIONAL' },
      { name: 'price', physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'DECIMAL(20,8)', repetition: 'REQUIRED' },
      { name: 'client_ref', physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
    ]);
  });

  it('types a usage report: day a DATE, dimensions strings, integer metrics INT64, decimal metrics exact', () => {
    const usage = request({ type: 'usage', fields: ['day', 'month', 'country', 'count', 'duration', 'total_price', 'answer_rate'] });
    expect(parquetColumns(usage).map((column) => ({ name: column.name, ...describeParquetType(column) }))).toEqual([
      { name: 'day', physical: 'INT32', logical: 'DATE', repetition: 'REQUIRED' },
      { name: 'month', physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'REQUIRED' },
      { name: 'country', physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
      { name: 'count', physical: 'INT64', logical: null, repetition: 'REQUIRED' },
      { name: 'duration', physical: 'INT64', logical: null, repetition: 'REQUIRED' },
      { name: 'total_price', physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'DECIMAL(38,8)', repetition: 'REQUIRED' },
      { name: 'answer_rate', physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'DECIMAL(5,4)', repetition: 'OPTIONAL' },
    ]);
  });
});

describe('manifestColumns', () => {
  it('adds the Parquet type of each column to a Parquet report, and nothing to a CSV one', () => {
    const fields = ['id', 'price', 'duration'];
    expect(manifestColumns(request({ fields }))).toEqual([
      { name: 'id', type: 'string', parquet: { physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'REQUIRED' } },
      { name: 'price', type: 'decimal', parquet: { physical: 'FIXED_LEN_BYTE_ARRAY', logical: 'DECIMAL(20,8)', repetition: 'REQUIRED' } },
      { name: 'duration', type: 'integer', parquet: { physical: 'INT32', logical: null, repetition: 'REQUIRED' } },
    ]);
    expect(manifestColumns(request({ fields, format: 'csv', compression: 'gzip' }))).toEqual([
      { name: 'id', type: 'string' },
      { name: 'price', type: 'decimal' },
      { name: 'duration', type: 'integer' },
    ]);
  });
});
