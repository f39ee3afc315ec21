import { randomUUID } from 'node:crypto';
import { AccountsRepository, CallbacksRepository, ReportsRepository } from '@cdr-reports/db';
import { parseReportRequest } from '@cdr-reports/domain';
import { createTestDatabase, type TestDatabase } from '@cdr-reports/testing';

/** The callback log under concurrent use, as the notifier makes it: many deliveries reading and writing at once. */
describe('callbacks repository', () => {
  let db: TestDatabase;
  let reports: ReportsRepository;
  let callbacks: CallbacksRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    reports = new ReportsRepository(db.pool);
    callbacks = new CallbacksRepository(db.pool);
    await new AccountsRepository(db.pool).create({ name: 'Acme', id: 'acme' });
  });
  afterAll(() => db.drop());

  /** A report failed with a callback URL: its terminal state and its event, recorded together. */
  async function failedReportEvent(): Promise<{ eventId: string; reportId: string }> {
    const now = new Date();
    const request = parseReportRequest(
      { product: 'SMS', account_id: 'acme', date_start: new Date(now.getTime() - 3_600_000).toISOString(), date_end: now.toISOString(), callback_url: 'https://hooks.example.com/cdr' },
      { principalAccountId: 'acme', now, oldestDateStart: new Date(0) },
    );
    const { report } = await reports.create({ id: randomUUID(), requestedBy: 'acme', request });
    const change = await reports.fail(report.id, { code: 'internal', message: 'test' });
    return { eventId: change.eventId!, reportId: report.id };
  }

  it('answers concurrent reads each with its own event, and undefined for an unknown one', async () => {
    const events = await Promise.all(Array.from({ length: 30 }, () => failedReportEvent()));
    const read = await Promise.all([...events.map((e) => callbacks.forDelivery(e.eventId)), callbacks.forDelivery('msg_unknown')]);
    events.forEach((event, index) => {
      expect(read[index]).toMatchObject({ id: event.eventId, reportId: event.reportId, state: 'pending', url: 'https://hooks.example.com/cdr' });
      expect(read[index]!.report?.id).toBe(event.reportId);
      expect(read[index]!.secrets).toHaveLength(1);
    });
    expect(read[30]).toBeUndefined();
  });

  it('numbers concurrent attempts of one event 1, 2, 3 … without a gap or a repeat, and fixes the body of the first', async () => {
    const { eventId } = await failedReportEvent();
    const numbers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => callbacks.recordAttempt(eventId, { statusCode: 500 + i, durationMs: i, error: `attempt ${i}` }, 'pending', `{"n":${i}}`)),
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const attempts = await callbacks.attempts(eventId);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Each call got the number of its own attempt.
    for (const [i, number] of numbers.entries()) expect(attempts[number - 1]!.statusCode).toBe(500 + i);
    expect((await callbacks.find(eventId))!.payload).toBe(`{"n":${numbers.indexOf(1)}}`);
  });

  it('writes concurrent attempts of many events each to its own event and state', async () => {
    const events = await Promise.all(Array.from({ length: 40 }, () => failedReportEvent()));
    const states = ['delivered', 'failed', 'pending'] as const;
    const numbers = await Promise.all(
      events.map((event, i) => callbacks.recordAttempt(event.eventId, { statusCode: 200, durationMs: 3, error: null }, states[i % 3]!, `{"i":${i}}`)),
    );
    expect(numbers).toEqual(events.map(() => 1));
    for (const [i, event] of events.entries()) {
      const stored = (await callbacks.find(event.eventId))!;
      expect(stored.state).toBe(states[i % 3]);
      expect(stored.payload).toBe(`{"i":${i}}`);
      expect(stored.deliveredAt !== null).toBe(states[i % 3] === 'delivered');
    }
  });

  it('leaves a delivered or failed event as it is when a late attempt is recorded', async () => {
    const { eventId } = await failedReportEvent();
    await callbacks.recordAttempt(eventId, { statusCode: 204, durationMs: 2, error: null }, 'delivered', '{}');
    expect(await callbacks.recordAttempt(eventId, { statusCode: 500, durationMs: 2, error: 'late' }, 'failed')).toBe(2);
    expect((await callbacks.find(eventId))!.state).toBe('delivered');
  });

  it('fails only the attempt of an unknown event, not the others written with it', async () => {
    const events = await Promise.all(Array.from({ length: 5 }, () => failedReportEvent()));
    const results = await Promise.allSettled([
      ...events.map((event) => callbacks.recordAttempt(event.eventId, { statusCode: 204, durationMs: 1, error: null }, 'delivered')),
      callbacks.recordAttempt('msg_missing', { statusCode: 204, durationMs: 1, error: null }, 'delivered'),
    ]);
    expect(results.map((r) => r.status)).toEqual([...Array(5).fill('fulfilled'), 'rejected']);
    expect((results[5] as PromiseRejectedResult).reason).toEqual(new Error('callback event msg_missing does not exist'));
    // Each of the others was written once.
    for (const event of events) expect((await callbacks.attempts(event.eventId)).map((a) => a.attempt)).toEqual([1]);
  });
});
