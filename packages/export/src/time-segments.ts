import type { TimeRange } from '@cdr-reports/cdr-store';

/** Default length of one export segment: a day, so progress moves at least once per day of data. */
export const DEFAULT_SEGMENT_MS = 86_400_000;

/**
 * Splits [from, to) into consecutive segments of at most `segmentMs`, aligned to multiples of it in UTC.
 * Exporting the segments in order, each ordered by (start_time, id), yields the whole range in that order.
 */
export function timeSegments(range: TimeRange, segmentMs = DEFAULT_SEGMENT_MS): TimeRange[] {
  const segments: TimeRange[] = [];
  const end = range.to.getTime();
  let from = range.from.getTime();
  while (from < end) {
    const boundary = (Math.floor(from / segmentMs) + 1) * segmentMs;
    const to = Math.min(boundary, end);
    segments.push({ from: new Date(from), to: new Date(to) });
    from = to;
  }
  return segments;
}
