import { ValidationError, parseReportRequest, parseSchedule, type InvalidParam } from '@cdr-reports/domain';

const context = { principalAccountId: 'acme', now: new Date('2026-11-21T10:00:00Z'), oldestDateStart: new Date('2025-01-01T00:00:00Z') };

function problems(run: () => unknown): InvalidParam[] {
  try {
    run();
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.invalidParams;
    throw error;
  }
}

describe('parseSchedule', () => {
  it('fills the defaults: monthly on the 1st at 02:00 UTC, previous month, the report template validated', () => {
    const schedule = parseSchedule({ name: ' Monthly SMS ', report: { product: 'SMS' } }, context);
    expect(schedule).toMatchObject({ name: 'Monthly SMS', cron: '0 2 1 * *', timezone: 'UTC', period: 'previous_month', paused: false });
    expect(schedule.report).toMatchObject({ product: 'SMS', account_id: 'acme', compression: 'gzip', timezone: 'UTC' });
    expect(schedule.report).not.toHaveProperty('date_start');
  });

  it('takes a format in its report: jsonl, parquet (zstd inside), and refuses parquet with a compression', () => {
    expect(parseSchedule({ name: 'n', report: { product: 'SMS', format: 'jsonl' } }, context).report).toMatchObject({ format: 'jsonl', compression: 'gzip' });
    expect(parseSchedule({ name: 'n', report: { product: 'SMS', format: 'parquet' } }, context).report).toMatchObject({ format: 'parquet', compression: 'zstd' });
    expect(problems(() => parseSchedule({ name: 'n', report: { product: 'SMS', format: 'parquet', compression: 'zip' } }, context)).map((p) => p.name).sort()).toEqual([
      'report.compression',
      'report.format',
    ]);
  });

  it('names every bad field, nested report fields as report.<name>', () => {
    const found = problems(() =>
      parseSchedule(
        { name: '', cron: '61 * * * *', timezone: 'Mars/Olympus', period: 'previous_year', report: { product: 'FAX', date_start: '2026-01-01T00:00:00Z' }, extra: 1 },
        context,
      ),
    ).map((p) => p.name);
    expect(found.sort()).toEqual(['cron', 'extra', 'name', 'period', 'report.date_start', 'report.product', 'timezone'].sort());
    expect(problems(() => parseSchedule({ name: 'x' }, context)).map((p) => p.name)).toEqual(['report']);
    expect(problems(() => parseSchedule({ name: 'x', cron: 'every day', report: { product: 'SMS' } }, context))[0]!.reason).toMatch(/5 fields/);
  });

  it('applies a PATCH to the current settings', () => {
    const current = parseSchedule({ name: 'n', report: { product: 'SMS' }, callback_url: 'https://example.com/hook' }, context);
    expect(parseSchedule({ paused: true }, context, current)).toEqual({ ...current, paused: true });
    expect(parseSchedule({ callback_url: null }, context, current)).not.toHaveProperty('callback_url');
    expect(problems(() => parseSchedule({ paused: 'yes' }, context, current))).toEqual([{ name: 'paused', reason: 'must be true or false' }]);
  });
});

describe('usage report requests', () => {
  const base = { product: 'VOICE-CALL', type: 'usage', date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };

  it('defaults to count and total_price per day, grouped by currency whenever money is summed', () => {
    const request = parseReportRequest(base, context);
    expect(request).toMatchObject({ type: 'usage', dimensions: ['day', 'currency'], metrics: ['count', 'total_price'], fields: ['day', 'currency', 'count', 'total_price'] });
    const explicit = parseReportRequest({ ...base, dimensions: ['month', 'status'], metrics: ['answer_rate', 'billsec'] }, context);
    expect(explicit.fields).toEqual(['month', 'status', 'answer_rate', 'billsec']);
  });

  it('lists the valid dimensions and metrics of the product for unknown ones', () => {
    const found = problems(() => parseReportRequest({ ...base, product: 'SMS', dimensions: ['day', 'hangup_cause'], metrics: ['duration', 'bogus'] }, context));
    expect(found).toEqual([
      { name: 'dimensions', reason: expect.stringContaining('"hangup_cause" not valid for SMS: use day, month, account_id') },
      { name: 'metrics', reason: expect.stringContaining('"duration", "bogus" not valid for SMS: use count, total_price, parts') },
    ]);
    expect(problems(() => parseReportRequest({ ...base, fields: ['id'] }, context)).map((p) => p.name)).toEqual(['fields']);
    expect(problems(() => parseReportRequest({ ...base, type: 'records', dimensions: ['day'] }, context)).map((p) => p.name)).toEqual(['dimensions']);
    expect(problems(() => parseReportRequest({ ...base, type: 'totals' }, context)).map((p) => p.name)).toEqual(['type']);
  });

  it('limits the span when asked (the synchronous APIs allow 31 days)', () => {
    expect(problems(() => parseReportRequest({ ...base, date_end: '2026-04-01T00:00:01Z' }, { ...context, maxSpanDays: 31 }))).toEqual([
      { name: 'date_end', reason: 'the time range may span at most 31 days' },
    ]);
    expect(problems(() => parseReportRequest(base, { ...context, maxSpanDays: 31 }))).toEqual([]);
  });
});
