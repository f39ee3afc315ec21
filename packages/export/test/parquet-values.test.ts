import { UnrecoverableJobError } from '@cdr-reports/domain';
import { dateToDays, decimalToScaled, timestampToMicros, toInt32, toInt64 } from '../src/parquet-values';

describe('Parquet value conversions', () => {
  it('scales decimals exactly, without a float, and refuses to round', () => {
    expect(decimalToScaled('0.0125', 20, 8)).toBe(1_250_000n);
    expect(decimalToScaled('-0.00000001', 20, 8)).toBe(-1n);
    expect(decimalToScaled('999999999999.99999999', 20, 8)).toBe(99_999_999_999_999_999_999n);
    expect(decimalToScaled('12', 20, 8)).toBe(1_200_000_000n);
    expect(decimalToScaled('0.1000000000', 20, 8)).toBe(10_000_000n);
    expect(() => decimalToScaled('0.000000001', 20, 8)).toThrow(UnrecoverableJobError);
    expect(() => decimalToScaled('1000000000000', 20, 8)).toThrow(/does not fit DECIMAL\(20,8\)/);
    expect(() => decimalToScaled('1e5', 20, 8)).toThrow(UnrecoverableJobError);
    expect(decimalToScaled('1.0000', 5, 4)).toBe(10_000n);
  });

  it('reads UTC timestamps to the microsecond', () => {
    expect(timestampToMicros('1970-01-01T00:00:00.000001Z')).toBe(1);
    expect(timestampToMicros('2026-03-10T09:00:00.999999Z')).toBe(Date.UTC(2026, 2, 10, 9) * 1000 + 999_999);
    expect(timestampToMicros('1969-12-31T23:59:59.999999Z')).toBe(-1);
    expect(() => timestampToMicros('2026-03-10T10:00:00.999999+01:00')).toThrow(UnrecoverableJobError);
    expect(() => timestampToMicros('2026-03-10 09:00:00')).toThrow(UnrecoverableJobError);
  });

  it('reads dates as days since the epoch', () => {
    expect(dateToDays('1970-01-01')).toBe(0);
    expect(dateToDays('2026-03-29')).toBe(Date.UTC(2026, 2, 29) / 86_400_000);
  });

  it('checks integer ranges', () => {
    expect(toInt32('-2147483648')).toBe(-2_147_483_648);
    expect(() => toInt32('2147483648')).toThrow(UnrecoverableJobError);
    expect(() => toInt32('1.5')).toThrow(UnrecoverableJobError);
    expect(toInt64('9007199254740993')).toBe(9_007_199_254_740_993n);
    expect(() => toInt64('9223372036854775808')).toThrow(UnrecoverableJobError);
  });
});
