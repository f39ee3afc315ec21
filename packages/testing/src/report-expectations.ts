/**
 * What a report must hold, computed independently of the exporter from the records a test loaded:
 * instants read to the microsecond, the file's row order, and the summary with exact decimal sums.
 */
import type { CdrRecord } from '@cdr-reports/domain';

/** Microseconds since the epoch of an RFC 3339 timestamp: the independent reading of an instant. */
export function micros(text: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new Error(`not an RFC 3339 timestamp with an offset: ${JSON.stringify(text)}`);
  return BigInt(Date.parse(`${match[1]}${match[3]}`)) * 1000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

/** The records a report must hold, in file order: start_time, then id (lower case). Returns a new array. */
export function inFileOrder(records: CdrRecord[]): CdrRecord[] {
  return [...records].sort((a, b) => {
    const byTime = micros(a.start_time!) - micros(b.start_time!);
    return byTime !== 0n ? (byTime < 0n ? -1 : 1) : a.id!.toLowerCase() < b.id!.toLowerCase() ? -1 : 1;
  });
}

/** A decimal string without trailing fractional zeros, and `-0` as `0`. */
export const normalDecimal = (value: string): string => (value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value).replace(/^-0$/, '0');

/** Exact sum of decimal strings, scaled to 8 places, then without trailing zeros. */
export function decimalSum(values: string[]): string {
  let units = 0n;
  for (const value of values) {
    const [whole, fraction = ''] = value.replace('-', '').split('.');
    const scaled = BigInt(whole!) * 100_000_000n + BigInt(fraction.padEnd(8, '0'));
    units += value.startsWith('-') ? -scaled : scaled;
  }
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  return normalDecimal(`${sign}${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0')}`);
}

/** The summary a report of exactly these records must carry. */
export function expectedSummary(records: CdrRecord[]) {
  const byCurrency = new Map<string, string[]>();
  const status: Record<string, number> = {};
  for (const record of records) {
    byCurrency.set(record.currency!, [...(byCurrency.get(record.currency!) ?? []), record.total_price!]);
    status[record.status!] = (status[record.status!] ?? 0) + 1;
  }
  return {
    records: records.length,
    duration_seconds: records.reduce((sum, r) => sum + Number(r.duration), 0),
    billsec_seconds: records.reduce((sum, r) => sum + Number(r.billsec), 0),
    total_price: Object.fromEntries([...byCurrency].map(([currency, values]) => [currency, decimalSum(values)])),
    status,
  };
}

