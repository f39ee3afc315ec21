import type { CdrRecord } from '@cdr-reports/domain';

const HOUR = 3_600_000;

export interface CdrFactoryOptions {
  /**
   * The fourth group of every id (`00000000-0000-4000-{idGroup}-{sequence}`), so that the records of one
   * suite can be told from another's or sort after them. Default `'8000'`.
   */
  idGroup?: string;
  /** start_time of the record with this sequence number (from 1), or one value for all. Default `'2026-03-10T09:00:00Z'`. */
  startTime?: string | ((sequence: number) => string);
  /**
   * When set, end_time is start_time plus this many milliseconds (written as an ISO string in UTC), unless the
   * changes give an end_time. Default: end_time comes from `columns` or the base record.
   */
  endAfterMs?: number;
  /** Columns every record of this factory has instead of the base SMS's (changes given per record still win). */
  columns?: CdrRecord;
}

/** Makes one CDR record; `changes` override any column. */
export type CdrFactory = (changes?: CdrRecord) => CdrRecord;

/**
 * A factory of valid SMS records of account acme, each with a fresh sequential id. The base record is an
 * outbound SMS to a UK number, delivered 4.5 s after 2026-03-10T09:00:00Z at GBP 0.0360, with a message body.
 * Each factory counts its own sequence, so a suite's ids (and times derived from the sequence) are the same
 * whatever other suites do.
 */
export function cdrFactory(options: CdrFactoryOptions = {}): CdrFactory {
  const { idGroup = '8000', startTime = '2026-03-10T09:00:00Z', endAfterMs, columns = {} } = options;
  let sequence = 0;
  return (changes = {}) => {
    sequence++;
    const record: CdrRecord = {
      id: `00000000-0000-4000-${idGroup}-${String(sequence).padStart(12, '0')}`,
      account_id: 'acme',
      product: 'SMS',
      direction: 'outbound',
      from: 'ACME',
      to: '+447700900123',
      start_time: typeof startTime === 'function' ? startTime(sequence) : startTime,
      answer_time: null,
      end_time: '2026-03-10T09:00:04.5Z',
      duration: '0',
      billsec: '0',
      status: 'delivered',
      hangup_cause: null,
      country: 'GB',
      network: '23415',
      currency: 'GBP',
      price: '0.0360',
      total_price: '0.0360',
      parts: '1',
      client_ref: null,
      message_body: 'Your code is 123456',
      ...columns,
      ...changes,
    };
    if (endAfterMs !== undefined && !('end_time' in changes)) record.end_time = new Date(Date.parse(record.start_time!) + endAfterMs).toISOString();
    return record;
  };
}

/**
 * Milliseconds since the epoch of `hour`:00 UTC yesterday: a window that is recent (inside any retention the
 * API enforces) and already over (so a report of it is complete).
 */
export function yesterdayAtUtc(hour: number): number {
  return Date.parse(new Date().toISOString().slice(0, 10)) - 24 * HOUR + hour * HOUR;
}

/** start_times one minute apart after `windowStart` (ms since the epoch): the n-th record at n minutes. */
export const minutesAfter =
  (windowStart: number) =>
  (sequence: number): string =>
    new Date(windowStart + sequence * 60_000).toISOString();
