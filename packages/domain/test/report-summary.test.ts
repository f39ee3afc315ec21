import { addDecimals, mergeSummaries } from '@cdr-reports/domain';

describe('addDecimals', () => {
  it.each([
    ['0.0125', '0.0125', '0.0250'],
    ['1', '0.00000001', '1.00000001'],
    ['-12.5', '2.25', '-10.25'],
    ['-0.5', '0.25', '-0.25'],
    ['999999999999.99999999', '0.00000001', '1000000000000.00000000'],
    ['0', '0', '0'],
  ])('%s + %s = %s', (a, b, sum) => expect(addDecimals(a, b)).toBe(sum));

  it('refuses what is not a decimal number', () => {
    expect(() => addDecimals('1e3', '1')).toThrow(RangeError);
  });
});

describe('mergeSummaries', () => {
  it('adds counts, seconds, statuses and exact totals per currency', () => {
    const merged = mergeSummaries([
      { records: 2, duration_seconds: 10, billsec_seconds: 8, total_price: { EUR: '0.0125', USD: '1.50' }, status: { answered: 2 } },
      { records: 3, duration_seconds: 5, billsec_seconds: 0, total_price: { EUR: '0.10' }, status: { answered: 1, busy: 2 } },
      { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} },
    ]);
    expect(merged).toEqual({ records: 5, duration_seconds: 15, billsec_seconds: 8, total_price: { EUR: '0.1125', USD: '1.50' }, status: { answered: 3, busy: 2 } });
  });
});
