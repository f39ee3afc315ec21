import type { TimeRange } from '@cdr-reports/cdr-store';
import { DEFAULT_SEGMENT_MS, timeSegments } from '@cdr-reports/export';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const range = (from: string, to: string): TimeRange => ({ from: new Date(from), to: new Date(to) });
const iso = (segments: TimeRange[]) => segments.map((s) => [s.from.toISOString(), s.to.toISOString()]);

/** What is wrong with a split, by the invariants every split must keep: nothing when it is right. */
function problems(input: TimeRange, segments: TimeRange[], segmentMs: number): string[] {
  const found: string[] = [];
  if (segments.length === 0) return ['no segment'];
  if (segments[0]!.from.getTime() !== input.from.getTime()) found.push('does not start at the range start');
  if (segments[segments.length - 1]!.to.getTime() !== input.to.getTime()) found.push('does not end at the range end');
  for (const [i, segment] of segments.entries()) {
    const length = segment.to.getTime() - segment.from.getTime();
    if (length <= 0 || length > segmentMs) found.push(`segment ${i} is ${length} ms long`);
    if (i > 0 && segment.from.getTime() !== segments[i - 1]!.to.getTime()) found.push(`gap or overlap before segment ${i}`);
    // Every boundary inside the range lies on a multiple of segmentMs (UTC alignment).
    if (i < segments.length - 1 && segment.to.getTime() % segmentMs !== 0) found.push(`segment ${i} ends off the grid`);
  }
  return found;
}

describe('timeSegments', () => {
  it('defaults to one UTC day', () => {
    expect(DEFAULT_SEGMENT_MS).toBe(DAY);
    const input = range('2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z');
    expect(iso(timeSegments(input))).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'],
    ]);
  });

  it('cuts an unaligned range at UTC midnights, keeping its own bounds at both ends', () => {
    const input = range('2026-03-01T10:30:00.123Z', '2026-03-04T05:00:00Z');
    const segments = timeSegments(input, DAY);
    expect(iso(segments)).toEqual([
      ['2026-03-01T10:30:00.123Z', '2026-03-02T00:00:00.000Z'],
      ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'],
      ['2026-03-03T00:00:00.000Z', '2026-03-04T00:00:00.000Z'],
      ['2026-03-04T00:00:00.000Z', '2026-03-04T05:00:00.000Z'],
    ]);
    expect(problems(input, segments, DAY)).toEqual([]);
  });

  it('gives one segment for a range inside one segment, and no empty segment at an aligned end', () => {
    expect(iso(timeSegments(range('2026-03-01T01:00:00Z', '2026-03-01T02:00:00Z'), DAY))).toEqual([
      ['2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z'],
    ]);
    expect(iso(timeSegments(range('2026-03-01T23:00:00Z', '2026-03-02T00:00:00Z'), DAY))).toEqual([
      ['2026-03-01T23:00:00.000Z', '2026-03-02T00:00:00.000Z'],
    ]);
    expect(iso(timeSegments(range('2026-03-01T00:00:00Z', '2026-03-01T00:00:00.001Z'), DAY))).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-01T00:00:00.001Z'],
    ]);
  });

  it('gives no segment for an empty or inverted range', () => {
    expect(timeSegments(range('2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z'), DAY)).toEqual([]);
    expect(timeSegments(range('2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z'), DAY)).toEqual([]);
  });

  it('ignores daylight saving time: segments across the Paris and New York changes are whole UTC days', () => {
    // Europe/Paris goes +01:00 -> +02:00 at 2026-03-29T01:00Z; America/New_York -05:00 -> -04:00 at 2026-03-08T07:00Z.
    for (const input of [range('2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z'), range('2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')]) {
      const segments = timeSegments(input, DAY);
      for (const segment of segments) {
        expect(segment.to.getTime() - segment.from.getTime()).toBe(DAY);
        expect(segment.from.toISOString()).toMatch(/T00:00:00\.000Z$/);
      }
    }
    // A range given with local offsets is the same instants: still cut at UTC midnight.
    const local = range('2026-03-28T12:00:00+01:00', '2026-03-30T12:00:00+02:00');
    expect(iso(timeSegments(local, DAY))).toEqual([
      ['2026-03-28T11:00:00.000Z', '2026-03-29T00:00:00.000Z'],
      ['2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z'],
      ['2026-03-30T00:00:00.000Z', '2026-03-30T10:00:00.000Z'],
    ]);
  });

  it('keeps its invariants for other segment lengths and random ranges', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const base = Date.UTC(2026, 0, 1);
    const failures: string[] = [];
    for (const segmentMs of [1, 7, 1000, HOUR, 6 * HOUR, DAY, 7 * DAY]) {
      for (let i = 0; i < 50; i++) {
        const from = base + Math.floor(next() * 60 * DAY);
        const to = from + 1 + Math.floor(next() * Math.min(40 * DAY, segmentMs * 500));
        const input = { from: new Date(from), to: new Date(to) };
        const segments = timeSegments(input, segmentMs);
        const expectedCount = Math.ceil(to / segmentMs) - Math.floor(from / segmentMs);
        const found = problems(input, segments, segmentMs);
        if (segments.length !== expectedCount) found.push(`${segments.length} segments, expected ${expectedCount}`);
        if (found.length > 0) failures.push(`${input.from.toISOString()}..${input.to.toISOString()} by ${segmentMs}: ${found.join('; ')}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
