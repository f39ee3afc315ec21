const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses a duration such as `90s`, `15m`, `72h`, `3d` or `1h30m` into milliseconds.
 * Returns undefined for anything else, so the caller can name the setting in its error.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 ? total : undefined;
}

/** Parses a comma-separated list of durations (`0s,5s,5m`; `0` alone means immediately); undefined if any is not one. */
export function parseDurationList(text: string): number[] | undefined {
  const parts = text.split(',').map((part) => part.trim());
  const delays = parts.map((part) => (part === '0' || part === '0s' ? 0 : parseDuration(part)));
  return parts.length > 0 && delays.every((d): d is number => d !== undefined) ? delays : undefined;
}

/** A calendar period counted in months and days, as retention is stated ("13 months"). */
export interface CalendarPeriod {
  months: number;
  days: number;
}

/** Parses `13 months`, `13mo`, `400 days`, `2 years`; undefined for anything else. */
export function parseCalendarPeriod(text: string): CalendarPeriod | undefined {
  const match = /^(\d+)\s*(months?|mo|days?|d|years?|y)$/i.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  if (amount <= 0) return undefined;
  const unit = match[2]!.toLowerCase();
  if (unit.startsWith('mo')) return { months: amount, days: 0 };
  if (unit.startsWith('y')) return { months: amount * 12, days: 0 };
  return { months: 0, days: amount };
}

/** The instant that lies `period` before `from` (calendar arithmetic in UTC). */
export function subtractPeriod(from: Date, period: CalendarPeriod): Date {
  const result = new Date(from.getTime());
  result.setUTCMonth(result.getUTCMonth() - period.months);
  result.setUTCDate(result.getUTCDate() - period.days);
  return result;
}
