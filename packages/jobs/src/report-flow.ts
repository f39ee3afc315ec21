import type { FlowProducer } from 'bullmq';
import { JOBS, QUEUES, type JobPayloads } from './catalog';

/** A time range of a report, with the requested bounds' exact text (to the microsecond) on its outer edges. */
export interface SegmentRange {
  from: Date;
  to: Date;
  fromText?: string;
  toText?: string;
}

/**
 * Splits a report into `count` time segments run as one BullMQ flow: an export-segment child per segment,
 * which any worker of the cluster can take, under an assemble-report parent that runs once all of them are
 * done. Idempotent: the job ids are the report id (parent) and the report id with the segment number.
 */
export async function fanOutReport(flow: FlowProducer, prefix: string, reportId: string, range: SegmentRange, count: number): Promise<void> {
  const segments = splitRange(range, count);
  await flow.add(
    {
      name: 'assemble-report',
      queueName: QUEUES.reportAssembly,
      prefix,
      data: { reportId, count: segments.length } satisfies JobPayloads['assemble-report'],
      opts: { ...JOBS['assemble-report'].options, jobId: reportId },
      children: segments.map((segment, index) => ({
        name: 'export-segment',
        queueName: QUEUES.reportSegments,
        prefix,
        data: {
          reportId,
          index,
          count: segments.length,
          from: segment.from.toISOString(),
          to: segment.to.toISOString(),
          ...(segment.fromText !== undefined && { fromText: segment.fromText }),
          ...(segment.toText !== undefined && { toText: segment.toText }),
        } satisfies JobPayloads['export-segment'],
        opts: { ...JOBS['export-segment'].options, jobId: `${reportId}.${index}` },
      })),
    },
  );
}

/** `count` contiguous segments of equal length (whole milliseconds) covering the range; the outer edges keep its text. */
export function splitRange(range: SegmentRange, count: number): SegmentRange[] {
  const start = range.from.getTime();
  const length = range.to.getTime() - start;
  const n = Math.max(1, Math.min(count, Math.floor(length)));
  const segments: SegmentRange[] = [];
  for (let i = 0; i < n; i++) {
    segments.push({ from: new Date(start + Math.floor((length * i) / n)), to: i === n - 1 ? range.to : new Date(start + Math.floor((length * (i + 1)) / n)) });
  }
  if (range.fromText !== undefined) segments[0]!.fromText = range.fromText;
  if (range.toText !== undefined) segments[n - 1]!.toText = range.toText;
  return segments;
}
