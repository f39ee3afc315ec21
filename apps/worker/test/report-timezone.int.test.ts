/**
 * Timestamps in a report: RFC 3339 with the numeric offset of the requested time zone, on each side of
 * daylight saving changes, with fractional seconds kept; the time zone changes how instants are written,
 * never which records are chosen or in what order.
 */
import type { CdrRecord } from '@cdr-reports/domain';
import { cdrFactory, micros, readReportFile, rowObjects, useReportCluster } from '@cdr-reports/testing';

const sms = cdrFactory({
  idGroup: 'a000',
  columns: { account_id: 'tz', end_time: null, country: 'FR', network: '20801', currency: 'EUR', price: '0.0500', total_price: '0.0500', message_body: null },
});
/** A valid SMS of account tz starting at `start`; answer and end times as given. */
const cdr = (start: string, changes: CdrRecord = {}): CdrRecord => sms({ start_time: start, ...changes });

// Europe/Paris: +01:00 -> +02:00 at 2026-03-29T01:00Z, back to +01:00 at 2026-10-25T01:00Z.
// America/New_York: -05:00 -> -04:00 at 2026-03-08T07:00Z.
const PARIS_SPRING = {
  beforeMidnight: cdr('2026-03-28T23:30:00Z'),
  before: cdr('2026-03-29T00:30:00Z'),
  lastSecondBefore: cdr('2026-03-29T00:59:59Z'),
  atChange: cdr('2026-03-29T01:00:00Z'),
  after: cdr('2026-03-29T01:30:00Z', { end_time: '2026-03-29T01:30:04.5Z' }),
};
const PARIS_AUTUMN = {
  // The same wall-clock time twice: only the offset tells them apart.
  firstTwoThirty: cdr('2026-10-25T00:30:00Z'),
  secondTwoThirty: cdr('2026-10-25T01:30:00Z'),
};
const NEW_YORK = {
  previousDay: cdr('2026-03-08T04:59:59Z'),
  before: cdr('2026-03-08T06:30:00Z'),
  after: cdr('2026-03-08T07:30:00Z'),
};
const FRACTIONS = {
  quarter: cdr('2026-03-10T09:00:00.25Z', { end_time: '2026-03-10T10:00:01.5+01:00' }),
  micro: cdr('2026-03-10T09:00:00.000001Z'),
  // Given at an offset in the import file: the instant is what is stored.
  offset: cdr('2026-03-10T10:00:00.123456+01:00'),
};
const RECORDS = [...Object.values(PARIS_SPRING), ...Object.values(PARIS_AUTUMN), ...Object.values(NEW_YORK), ...Object.values(FRACTIONS)];
const WIDE = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-11-01T00:00:00Z' };

/** Wall-clock time and numeric offset of an instant in `zone`, by the runtime's own time zone data. */
function wallClock(text: string, zone: string): { wall: string; offset: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      timeZoneName: 'longOffset',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(Number(micros(text) / 1000n)))
      .map((part) => [part.type, part.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : parts.timeZoneName!.slice(3);
  return { wall: `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`, offset };
}

const RFC3339_NUMERIC = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?([+-]\d{2}:\d{2})$/;

/** Checks that `cell` writes the instant of `stored` in `zone`: wall clock, offset and every microsecond. */
function expectRendered(cell: string, stored: string | null, zone: string): void {
  if (stored === null) return expect(cell).toBe('');
  const match = RFC3339_NUMERIC.exec(cell);
  expect({ cell, rfc3339WithNumericOffset: match !== null }).toEqual({ cell, rfc3339WithNumericOffset: true });
  const { wall, offset } = wallClock(stored, zone);
  expect({ stored, zone, wall: match![1], offset: match![3] }).toEqual({ stored, zone, wall, offset });
  expect({ stored, micros: micros(cell) }).toEqual({ stored, micros: micros(stored) });
}

describe('worker: time zones in report files', () => {
  // Month-long segments: the reports span eight months, and segment bounds have nothing to do with zones.
  const cluster = useReportCluster({ workerOptions: { segmentMs: 30 * 86_400_000 } });
  let key: string;

  beforeAll(async () => {
    key = await cluster.account('tz');
    await cluster.load(RECORDS);
  });

  async function startTimes(timezone: string | undefined, range = WIDE): Promise<Map<string, Record<string, string>>> {
    const created = await cluster.createReport(key, { product: 'SMS', ...range, ...(timezone && { timezone }), fields: ['id', 'start_time', 'end_time'] });
    const done = await cluster.waitForStatus(key, created.request_id, ['SUCCESS', 'FAILED'], 20_000);
    expect({ status: done.request_status, error: done.error ?? null }).toEqual({ status: 'SUCCESS', error: null });
    const rows = rowObjects(await readReportFile(await cluster.download(done), 'gzip'));
    expect(done.items_count).toBe(rows.length);
    return new Map(rows.map((row) => [row.id!, row]));
  }

  it('writes Europe/Paris times at +01:00 before the spring change and +02:00 after it', async () => {
    const rows = await startTimes('Europe/Paris');
    expect(Object.values(PARIS_SPRING).map((r) => rows.get(r.id!)?.start_time)).toEqual([
      '2026-03-29T00:30:00+01:00',
      '2026-03-29T01:30:00+01:00',
      '2026-03-29T01:59:59+01:00',
      '2026-03-29T03:00:00+02:00',
      '2026-03-29T03:30:00+02:00',
    ]);
    expect(rows.get(PARIS_SPRING.after.id!)?.end_time).toMatch(/^2026-03-29T03:30:04\.50*\+02:00$/);
    expect(Object.values(PARIS_AUTUMN).map((r) => rows.get(r.id!)?.start_time)).toEqual(['2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00']);
    for (const record of RECORDS) {
      expectRendered(rows.get(record.id!)!.start_time!, record.start_time!, 'Europe/Paris');
      expectRendered(rows.get(record.id!)!.end_time!, record.end_time ?? null, 'Europe/Paris');
    }
  });

  it('writes America/New_York times at -05:00 before its change and -04:00 after it', async () => {
    const rows = await startTimes('America/New_York');
    expect(Object.values(NEW_YORK).map((r) => rows.get(r.id!)?.start_time)).toEqual([
      '2026-03-07T23:59:59-05:00',
      '2026-03-08T01:30:00-05:00',
      '2026-03-08T03:30:00-04:00',
    ]);
    expect(rows.get(FRACTIONS.quarter.id!)?.start_time).toMatch(/^2026-03-10T05:00:00\.250*-04:00$/);
    for (const record of RECORDS) expectRendered(rows.get(record.id!)!.start_time!, record.start_time!, 'America/New_York');
  });

  it('keeps fractional seconds to the microsecond and writes whole seconds without a fraction', async () => {
    const rows = await startTimes('Europe/Paris');
    expect(rows.get(FRACTIONS.quarter.id!)?.start_time).toMatch(/^2026-03-10T10:00:00\.250*\+01:00$/);
    expect(rows.get(FRACTIONS.quarter.id!)?.end_time).toMatch(/^2026-03-10T10:00:01\.50*\+01:00$/);
    expect(rows.get(FRACTIONS.micro.id!)?.start_time).toBe('2026-03-10T10:00:00.000001+01:00');
    expect(rows.get(FRACTIONS.offset.id!)?.start_time).toBe('2026-03-10T10:00:00.123456+01:00');
    expect(rows.get(PARIS_SPRING.before.id!)?.start_time).toBe('2026-03-29T01:30:00+01:00');
  });

  it.each(['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Asia/Kathmandu'])('writes %s with its numeric offset, minutes included', async (zone) => {
    const rows = await startTimes(zone === 'UTC' ? undefined : zone);
    for (const record of RECORDS) expectRendered(rows.get(record.id!)!.start_time!, record.start_time!, zone);
    if (zone === 'UTC') expect(rows.get(PARIS_SPRING.atChange.id!)?.start_time).toBe('2026-03-29T01:00:00+00:00');
    if (zone === 'America/St_Johns') expect(rows.get(PARIS_SPRING.atChange.id!)?.start_time).toBe('2026-03-28T22:30:00-02:30');
  });

  it('chooses and orders the same records whatever the time zone', async () => {
    const range = { date_start: '2026-03-29T00:00:00+01:00', date_end: '2026-03-29T04:00:00+02:00' };
    const expected = Object.values(PARIS_SPRING).map((r) => r.id);
    for (const zone of ['UTC', 'Europe/Paris', 'America/New_York', 'Pacific/Kiritimati']) {
      expect({ zone, ids: [...(await startTimes(zone, range)).keys()] }).toEqual({ zone, ids: expected });
    }
    // Autumn: one wall-clock time twice, in instant order.
    const autumn = [...(await startTimes('Europe/Paris', { date_start: '2026-10-25T00:00:00Z', date_end: '2026-10-26T00:00:00Z' })).keys()];
    expect(autumn).toEqual([PARIS_AUTUMN.firstTwoThirty.id, PARIS_AUTUMN.secondTwoThirty.id]);
  });
});
