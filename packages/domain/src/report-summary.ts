import type { ReportSummary } from './report.types';

/**
 * The summary of a report built in segments: counts and seconds added, totals per currency added exactly
 * (decimal strings, never floats), written with as many decimals as the most precise part, as PostgreSQL's
 * sum() over the whole report would write them.
 */
export function mergeSummaries(parts: readonly ReportSummary[]): ReportSummary {
  const merged: ReportSummary = { records: 0, duration_seconds: 0, billsec_seconds: 0, total_price: {}, status: {} };
  for (const part of parts) {
    merged.records += part.records;
    merged.duration_seconds += part.duration_seconds;
    merged.billsec_seconds += part.billsec_seconds;
    for (const [status, count] of Object.entries(part.status)) merged.status[status] = (merged.status[status] ?? 0) + count;
    for (const [currency, total] of Object.entries(part.total_price)) {
      const sum = merged.total_price[currency];
      merged.total_price[currency] = sum === undefined ? total : addDecimals(sum, total);
    }
  }
  return merged;
}

/** a + b, exactly, for decimal strings like "-12.5" and "0.0125". */
export function addDecimals(a: string, b: string): string {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  const total = x.units * 10n ** BigInt(scale - x.scale) + y.units * 10n ** BigInt(scale - y.scale);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

function parseDecimal(text: string): { units: bigint; scale: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal number: "${text}"`);
  const fraction = match[3] ?? '';
  const units = BigInt(`${match[2]}${fraction}`);
  return { units: match[1] === '-' ? -units : units, scale: fraction.length };
}
