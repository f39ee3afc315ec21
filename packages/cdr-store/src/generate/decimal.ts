/**
 * Exact decimal arithmetic for generated prices: amounts are BigInt counts of 10^-8 (the scale of the cdrs
 * table's numeric (up to 8 decimal places)), so no price ever passes through a binary float.
 */

/** Fractional digits of stored prices. */
export const PRICE_SCALE = 8;
const ONE = 10n ** BigInt(PRICE_SCALE);

/** Parses a decimal like "-0.0125" into units of 10^-8. The text must have at most 8 fractional digits. */
export function toUnits(decimal: string): bigint {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.');
  const units = BigInt(whole) * ONE + BigInt(fraction.padEnd(PRICE_SCALE, '0') || '0');
  return negative ? -units : units;
}

/**
 * Formats units of 10^-8 with at least `minDecimals` fractional digits, and more only where they are not zero:
 * formatUnits(1_250_000n, 4) is "0.0125", formatUnits(1_234_567n, 4) is "0.01234567".
 */
export function formatUnits(units: bigint, minDecimals: number = PRICE_SCALE): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const digits = (magnitude % ONE).toString().padStart(PRICE_SCALE, '0');
  const fraction = digits.slice(0, Math.max(minDecimals, digits.replace(/0+$/, '').length));
  return `${negative ? '-' : ''}${magnitude / ONE}${fraction ? `.${fraction}` : ''}`;
}

/** `units * multiplier / divisor`, rounded half away from zero to whole units. */
export function mulDivRound(units: bigint, multiplier: bigint, divisor: bigint): bigint {
  const product = units * multiplier;
  const negative = product < 0n;
  const magnitude = negative ? -product : product;
  const rounded = (magnitude * 2n + divisor) / (divisor * 2n);
  return negative ? -rounded : rounded;
}

/** Rounds units of 10^-8 to `decimals` fractional digits, half away from zero. */
export function roundUnits(units: bigint, decimals: number): bigint {
  const step = 10n ** BigInt(PRICE_SCALE - decimals);
  return mulDivRound(units, 1n, step) * step;
}
