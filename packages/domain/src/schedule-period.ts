/**
 * Calendar periods of scheduled exports, in the schedule's time zone: a run at 02:00 on 1 April in
 * Europe/Paris covers March there, 2026-03-01T00:00:00+01:00 to 2026-04-01T00:00:00+02:00. Local dates are
 * 'YYYY-MM-DD' strings; instants come out as RFC 3339 text with the zone's offset at that instant.
 */

export const SCHEDULE_PERIODS = ['previous_month', 'previous_week', 'previous_day'] as const;
export type SchedulePeriod = (typeof SCHEDULE_PERIODS)[number];

export interface PeriodBounds {
  /** The first local day of the period, 'YYYY-MM-DD' (what identifies the period of a schedule). */
  startDate: string;
  /** The first local day after it. */
  endDate: string;
  /** RFC 3339 instants of the local midnights that bound it, with the zone's offset: [date_start, date_end). */
  dateStart: string;
  dateEnd: string;
}

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' of a UTC calendar date held in a Date (at 00:00Z). */
function isoDate(utcDay: Date): string {
  return utcDay.toISOString().slice(0, 10);
}

function parseDate(date: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`not a date like 2026-03-01: "${date}"`);
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || isoDate(day) !== date) throw new RangeError(`not a calendar date: "${date}"`);
  return day;
}

/** True for a real calendar date written 'YYYY-MM-DD'. */
export function isCalendarDate(date: string): boolean {
  try {
    parseDate(date);
    return true;
  } catch {
    return false;
  }
}

/** The local calendar date of `instant` in `timeZone`, 'YYYY-MM-DD'. */
export function localDate(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The zone's offset from UTC at `instant`, in minutes (Paris in winter: 60). */
function offsetMinutes(instant: number, timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(instant))
    .find((p) => p.type === 'timeZoneName')!.value;
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!match) throw new RangeError(`unexpected offset "${name}" for ${timeZone}`);
  if (!match[1]) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * The first instant of local day `date` in `timeZone`, as RFC 3339 with the offset then in force. Where a
 * zone skips midnight (a DST change at 00:00), the day starts at the first local time that exists.
 */
export function startOfLocalDay(date: string, timeZone: string): string {
  const midnightUtc = parseDate(date).getTime();
  // The offset at the instant itself decides; two rounds settle a guess made across a DST change.
  let instant = midnightUtc - offsetMinutes(midnightUtc, timeZone) * 60_000;
  instant = midnightUtc - offsetMinutes(instant, timeZone) * 60_000;
  if (localDate(new Date(instant), timeZone) !== date) {
    // Midnight does not exist here: the day begins where the previous one ends, one gap later.
    instant += Math.abs(offsetMinutes(instant + DAY_MS / 2, timeZone) - offsetMinutes(instant - DAY_MS / 2, timeZone)) * 60_000;
  }
  const offset = offsetMinutes(instant, timeZone);
  const local = new Date(instant + offset * 60_000).toISOString().slice(0, 19);
  return `${local}${formatOffset(offset)}`;
}

/** The period of kind `period` that contains local day `date` (a month, an ISO week from Monday, or the day). */
export function periodContaining(date: string, period: SchedulePeriod, timeZone: string): PeriodBounds {
  const day = parseDate(date);
  let start: Date;
  let end: Date;
  if (period === 'previous_month') {
    start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
    end = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1));
  } else if (period === 'previous_week') {
    const sinceMonday = (day.getUTCDay() + 6) % 7;
    start = new Date(day.getTime() - sinceMonday * DAY_MS);
    end = new Date(start.getTime() + 7 * DAY_MS);
  } else {
    start = day;
    end = new Date(day.getTime() + DAY_MS);
  }
  const startDate = isoDate(start);
  const endDate = isoDate(end);
  return { startDate, endDate, dateStart: startOfLocalDay(startDate, timeZone), dateEnd: startOfLocalDay(endDate, timeZone) };
}

/** The whole period before the one that contains `instant` (in `timeZone`): what a run at `instant` reports on. */
export function previousPeriod(instant: Date, period: SchedulePeriod, timeZone: string): PeriodBounds {
  const current = periodContaining(localDate(instant, timeZone), period, timeZone);
  const lastDayBefore = isoDate(new Date(parseDate(current.startDate).getTime() - DAY_MS));
  return periodContaining(lastDayBefore, period, timeZone);
}
