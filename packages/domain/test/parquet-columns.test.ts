import { decimalPhysicalType, describeParquetType, manifestColumns, parquetColumns, type ReportRequest } from '@cdr-reports/domain';

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
  it('stores decimals as the writer does: INT32 up to 9 digits, INT64 up to 18, 16 fixed bytes beyond', () => {
    expect([1, 9, 10, 18, 19, 20, 38].map(decimalPhysicalType)).toEqual([
      { physical: 'INT32' },
      { physical: 'INT32' },
      { physical: 'INT64' },
      { physical: 'INT64' },
      { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16 },
      { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16 },
      { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16 },
    ]);
  });

  it('types the columns of a report of records (every one OPTIONAL in the file), and says which may be NULL', () => {
    const columns = parquetColumns(request({ fields: ['id', 'start_time', 'answer_time', 'duration', 'parts', 'price', 'client_ref'] }));
    expect(columns.map((column) => ({ name: column.name, nullable: column.nullable, ...describeParquetType(column) }))).toEqual([
      { name: 'id', nullable: false, physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
      { name: 'start_time', nullable: false, physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition: 'OPTIONAL' },
      { name: 'answer_time', nullable: true, physical: 'INT64', logical: 'TIMESTAMP(MICROS,true)', repetition: 'OPTIONAL' },
      { name: 'duration', nullable: false, physical: 'INT32', logical: null, repetition: 'OPTIONAL' },
      { name: 'parts', nullable: true, physical: 'INT32', logical: null, repetition: 'OPTIONAL' },
      { name: 'price', nullable: false, physical: 'FIXED_LEN_BYTE_ARRAY', length: 16, logical: 'DECIMAL(20,8)', repetition: 'OPTIONAL' },
      { name: 'client_ref', nullable: true, physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
    ]);
  });

  it('types a usage report: day a DATE, dimensions strings, integer metrics INT64, decimal metrics exact', () => {
    const usage = request({ type: 'usage', fields: ['day', 'month', 'country', 'count', 'duration', 'total_price', 'answer_rate'] });
    expect(parquetColumns(usage).map((column) => ({ name: column.name, nullable: column.nullable, ...describeParquetType(column) }))).toEqual([
      { name: 'day', nullable: false, physical: 'INT32', logical: 'DATE', repetition: 'OPTIONAL' },
      { name: 'month', nullable: false, physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
      { name: 'country', nullable: true, physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' },
      { name: 'count', nullable: false, physical: 'INT64', logical: null, repetition: 'OPTIONAL' },
      { name: 'duration', nullable: false, physical: 'INT64', logical: null, repetition: 'OPTIONAL' },
      { name: 'total_price', nullable: false, physical: 'FIXED_LEN_BYTE_ARRAY', length: 16, logical: 'DECIMAL(38,8)', repetition: 'OPTIONAL' },
      { name: 'answer_rate', nullable: true, physical: 'INT32', logical: 'DECIMAL(5,4)', repetition: 'OPTIONAL' },
    ]);
  });
});

describe('manifestColumns', () => {
  it('adds the Parquet type of each column to a Parquet report, and nothing to a CSV one', () => {
    const fields = ['id', 'price', 'duration'];
    expect(manifestColumns(request({ fields }))).toEqual([
      { name: 'id', type: 'string', nullable: false, parquet: { physical: 'BYTE_ARRAY', logical: 'STRING', repetition: 'OPTIONAL' } },
      { name: 'price', type: 'decimal', nullable: false, parquet: { physical: 'FIXED_LEN_BYTE_ARRAY', length: 16, logical: 'DECIMAL(20,8)', repetition: 'OPTIONAL' } },
      { name: 'duration', type: 'integer', nullable: false, parquet: { physical: 'INT32', logical: null, repetition: 'OPTIONAL' } },
    ]);
    expect(manifestColumns(request({ fields: [...fields, 'client_ref'], format: 'csv', compression: 'gzip' }))).toEqual([
      { name: 'id', type: 'string', nullable: false },
      { name: 'price', type: 'decimal', nullable: false },
      { name: 'duration', type: 'integer', nullable: false },
      { name: 'client_ref', type: 'string', nullable: true },
    ]);
  });
});
