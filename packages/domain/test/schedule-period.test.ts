import { periodContaining, previousPeriod, startOfLocalDay } from '@cdr-reports/domain';

describe('schedule periods in the schedule time zone', () => {
  it('a run on 1 April in Paris covers March there, across the change to summer time', () => {
    expect(previousPeriod(new Date('2026-04-01T00:00:00Z'), 'previous_month', 'Europe/Paris')).toEqual({
      startDate: '2026-03-01',
      endDate: '2026-04-01',
      dateStart: '2026-03-01T00:00:00+01:00',
      dateEnd: '2026-04-01T00:00:00+02:00',
    });
  });

  it('takes the local date of the run, not the UTC one', () => {
    // 23:30 UTC on 31 March is already 1 April in Paris (and still 31 March in New York).
    expect(previousPeriod(new Date('2026-03-31T23:30:00Z'), 'previous_month', 'Europe/Paris').startDate).toBe('2026-03-01');
    expect(previousPeriod(new Date('2026-03-31T23:30:00Z'), 'previous_month', 'America/New_York').startDate).toBe('2026-02-01');
  });

  it.each([
    ['2026-03-01', '2026-02-01', '2026-03-01'], // 28 days
    ['2028-03-01', '2028-02-01', '2028-03-01'], // leap year: 29 days
    ['2026-05-01', '2026-04-01', '2026-05-01'], // 30 days
    ['2026-01-01', '2025-12-01', '2026-01-01'], // across the year
    ['2026-08-15', '2026-07-01', '2026-08-01'], // a run mid-month still covers the whole month before
  ])('a monthly run on %s covers %s to %s in UTC', (runDate, start, end) => {
    const bounds = previousPeriod(new Date(`${runDate}T02:00:00Z`), 'previous_month', 'UTC');
    expect(bounds).toMatchObject({ startDate: start, endDate: end, dateStart: `${start}T00:00:00+00:00`, dateEnd: `${end}T00:00:00+00:00` });
  });

  it('ends October in Paris on winter time, 743 hours long', () => {
    const bounds = periodContaining('2026-10-15', 'previous_month', 'Europe/Paris');
    expect(bounds.dateStart).toBe('2026-10-01T00:00:00+02:00');
    expect(bounds.dateEnd).toBe('2026-11-01T00:00:00+01:00');
    expect((Date.parse(bounds.dateEnd) - Date.parse(bounds.dateStart)) / 3_600_000).toBe(31 * 24 + 1);
  });

  it('weeks run Monday to Monday; days are local days, 23 hours on the spring change', () => {
    // Wednesday 2026-03-11: the week before is Monday 2 to Monday 9 March.
    expect(previousPeriod(new Date('2026-03-11T12:00:00Z'), 'previous_week', 'UTC')).toMatchObject({ startDate: '2026-03-02', endDate: '2026-03-09' });
    // On a Monday the previous week is the one that just ended.
    expect(previousPeriod(new Date('2026-03-09T02:00:00Z'), 'previous_week', 'UTC')).toMatchObject({ startDate: '2026-03-02' });
    const spring = previousPeriod(new Date('2026-03-30T02:00:00+02:00'), 'previous_day', 'Europe/Paris');
    expect(spring).toMatchObject({ startDate: '2026-03-29', dateStart: '2026-03-29T00:00:00+01:00', dateEnd: '2026-03-30T00:00:00+02:00' });
    expect((Date.parse(spring.dateEnd) - Date.parse(spring.dateStart)) / 3_600_000).toBe(23);
  });

  it('offsets east and west of UTC, and half hours', () => {
    expect(startOfLocalDay('2026-03-01', 'America/Los_Angeles')).toBe('2026-03-01T00:00:00-08:00');
    expect(startOfLocalDay('2026-07-01', 'America/Los_Angeles')).toBe('2026-07-01T00:00:00-07:00');
    expect(startOfLocalDay('2026-03-01', 'Asia/Kolkata')).toBe('2026-03-01T00:00:00+05:30');
    expect(startOfLocalDay('2026-03-01', 'Pacific/Auckland')).toBe('2026-03-01T00:00:00+13:00');
  });

  it('a day whose midnight does not exist starts at its first local instant', () => {
    // Chile moves to summer time at 24:00 on Saturday 5 September 2026: Sunday begins at 01:00 (-03:00).
    const start = startOfLocalDay('2026-09-06', 'America/Santiago');
    expect(start).toBe('2026-09-06T01:00:00-03:00');
    expect(new Date(start).toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });

  it('rejects dates that are not calendar dates', () => {
    expect(() => periodContaining('2026-02-30', 'previous_month', 'UTC')).toThrow(RangeError);
    expect(() => periodContaining('2026-3-1', 'previous_month', 'UTC')).toThrow(RangeError);
  });
});
