import { MAX_REPORT_ACCOUNT_IDS, ValidationError, parseReportRequest, parseSchedule, type InvalidParam, type ReportRequestContext } from '@cdr-reports/domain';

const context: ReportRequestContext = {
  principalAccountId: 'acme',
  now: new Date('2026-06-15T12:00:00Z'),
  oldestDateStart: new Date('2025-05-15T12:00:00Z'),
};
const body = (changes: Record<string, unknown> = {}) => ({ product: 'SMS', date_start: '2026-06-01T00:00:00Z', date_end: '2026-06-02T00:00:00Z', ...changes });

function problemsOf(input: unknown): InvalidParam[] {
  try {
    parseReportRequest(input, context);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.invalidParams;
  }
}

describe('parseReportRequest: account_ids', () => {
  it('keeps the list as given; account_id defaults to the key’s account, which owns the report', () => {
    const request = parseReportRequest(body({ account_ids: ['acme-uk.2', 'acme'] }), context);
    expect(request).toMatchObject({ account_id: 'acme', account_ids: ['acme-uk.2', 'acme'], include_subaccounts: false });
    expect(Object.keys(request).slice(0, 4)).toEqual(['product', 'account_id', 'account_ids', 'include_subaccounts']);
    expect(parseReportRequest(body({ account_id: 'acme-uk', account_ids: ['acme-uk'] }), context).account_id).toBe('acme-uk');
    expect(parseReportRequest(body({ account_ids: ['a'], include_subaccounts: false }), context).account_ids).toEqual(['a']);
  });

  it('is absent when not given', () => {
    expect(parseReportRequest(body(), context)).not.toHaveProperty('account_ids');
    expect(parseReportRequest(body({ account_ids: null }), context)).not.toHaveProperty('account_ids');
  });

  it.each([
    ['an empty list', [], /non-empty list/],
    ['not a list', 'acme', /non-empty list/],
    ['a non-string', ['acme', 7], /non-empty list/],
    ['a bad id', ['acme', 'a b', '-x'], /"a b", "-x" are not account ids/],
    ['an id longer than 64', ['a'.repeat(65)], /is not an account id/],
    ['repeated ids', ['b', 'a', 'b', 'a', 'c'], /lists "b", "a" more than once/],
    ['too many', Array.from({ length: MAX_REPORT_ACCOUNT_IDS + 1 }, (_, i) => `a${i}`), /at most 20000/],
  ])('refuses %s, naming account_ids', (_case, accountIds, reason) => {
    expect(problemsOf(body({ account_ids: accountIds }))).toEqual([{ name: 'account_ids', reason: expect.stringMatching(reason) }]);
  });

  it('accepts exactly 20,000 ids', () => {
    const ids = Array.from({ length: MAX_REPORT_ACCOUNT_IDS }, (_, i) => `a${i}`);
    expect(parseReportRequest(body({ account_ids: ids }), context).account_ids).toHaveLength(MAX_REPORT_ACCOUNT_IDS);
  });

  it('refuses include_subaccounts: true beside it, naming include_subaccounts', () => {
    expect(problemsOf(body({ account_ids: ['acme'], include_subaccounts: true }))).toEqual([
      { name: 'include_subaccounts', reason: expect.stringMatching(/cannot be true with account_ids/) },
    ]);
  });

  it('a schedule’s report takes it too, its problems named under report.', () => {
    const settings = parseSchedule({ name: 'n', report: { product: 'SMS', account_ids: ['acme-uk'] } }, context);
    expect(settings.report).toMatchObject({ account_ids: ['acme-uk'], account_id: 'acme' });
    expect(() => parseSchedule({ name: 'n', report: { product: 'SMS', account_ids: ['x', 'x'] } }, context)).toThrow(/report.account_ids: lists "x" more than once/);
  });
});
