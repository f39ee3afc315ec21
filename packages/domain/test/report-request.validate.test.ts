import {
  CDR_COLUMN_NAMES,
  MAX_REPORT_SPAN_MONTHS,
  ValidationError,
  parseReportRequest,
  type InvalidParam,
  type ReportRequestContext,
} from '@cdr-reports/domain';

// A fixed "now" and a 13-month retention: the oldest date_start allowed is 2025-05-15T12:00:00Z.
const context: ReportRequestContext = {
  principalAccountId: 'acme',
  now: new Date('2026-06-15T12:00:00Z'),
  oldestDateStart: new Date('2025-05-15T12:00:00Z'),
};

/** The smallest valid body; `changes` override or add fields (undefined removes one). */
function body(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = { product: 'SMS', date_start: '2026-06-01T00:00:00Z', date_end: '2026-06-02T00:00:00Z', ...changes };
  for (const [key, value] of Object.entries(base)) if (value === undefined) delete base[key];
  return base;
}

/** The problems parseReportRequest reports for `input`; [] when it accepts it. */
function problemsOf(input: unknown): InvalidParam[] {
  try {
    parseReportRequest(input, context);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.invalidParams;
  }
}

const DEFAULT_FIELDS = CDR_COLUMN_NAMES.filter((name) => name !== 'message_body');

describe('parseReportRequest: a valid request', () => {
  it('fills in every default and adds no optional filter that was not given', () => {
    const request = parseReportRequest(body(), context);
    expect(request).toEqual({
      product: 'SMS',
      account_id: 'acme',
      include_subaccounts: false,
      date_start: '2026-06-01T00:00:00Z',
      date_end: '2026-06-02T00:00:00Z',
      fields: DEFAULT_FIELDS,
      include_message: false,
      timezone: 'UTC',
      format: 'csv',
      compression: 'gzip',
    });
    expect(request.fields).not.toContain('message_body');
  });

  it('includes message_body after every other column with include_message', () => {
    expect(parseReportRequest(body({ include_message: true }), context).fields).toEqual([...CDR_COLUMN_NAMES]);
  });

  it('keeps every given field as given, and a single status becomes a list', () => {
    const full = {
      product: 'VOICE-CALL',
      account_id: 'acme-uk.east_1',
      include_subaccounts: true,
      date_start: '2026-05-01T00:00:00+02:00',
      date_end: '2026-06-01T00:00:00.5-03:30',
      direction: 'outbound',
      status: 'answered',
      from: '+4420*',
      to: 'ACME 24',
      country: 'GB',
      network: '23415',
      hangup_cause: 'NORMAL_CLEARING',
      client_ref: 'order 42, "rush"',
      min_duration: 0,
      fields: ['start_time', 'id', 'message_body'],
      include_message: true,
      timezone: 'Europe/Paris',
      format: 'jsonl',
      compression: 'zip',
      callback_url: 'https://hooks.example.com/cdr?x=1',
    };
    expect(parseReportRequest(full, context)).toEqual({ ...full, status: ['answered'] });
  });

  it('treats null like an absent optional field', () => {
    const request = parseReportRequest(body({ direction: null, status: null, fields: null, timezone: null, compression: null, account_id: null }), context);
    expect(request).toMatchObject({ account_id: 'acme', fields: DEFAULT_FIELDS, timezone: 'UTC', compression: 'gzip' });
    expect(request).not.toHaveProperty('direction');
    expect(request).not.toHaveProperty('status');
  });

  it('accepts a list of statuses valid for the product', () => {
    expect(parseReportRequest(body({ product: 'MESSAGES', status: ['read', 'delivered'] }), context).status).toEqual(['read', 'delivered']);
  });

  it(`accepts a span of exactly ${MAX_REPORT_SPAN_MONTHS} months and a date_start exactly at the retention limit`, () => {
    expect(problemsOf(body({ date_start: '2025-05-15T12:00:00Z', date_end: '2026-06-15T12:00:00Z' }))).toEqual([]);
  });

  it('accepts http and https callback URLs and IANA zones in any case PostgreSQL also accepts', () => {
    expect(problemsOf(body({ callback_url: 'http://10.0.0.1:8080/hook' }))).toEqual([]);
    expect(problemsOf(body({ timezone: 'America/Argentina/Buenos_Aires' }))).toEqual([]);
    expect(problemsOf(body({ timezone: 'Etc/GMT+5' }))).toEqual([]);
  });
});

describe('parseReportRequest: every rule names its field', () => {
  // [case, changes to the valid body, the field named]
  const cases: [string, Record<string, unknown>, string][] = [
    ['product missing', { product: undefined }, 'product'],
    ['product null', { product: null }, 'product'],
    ['product unknown', { product: 'FAX' }, 'product'],
    ['product in lower case', { product: 'sms' }, 'product'],
    ['product not a string', { product: 1 }, 'product'],
    ['account_id with a space', { account_id: 'acme corp' }, 'account_id'],
    ['account_id starting with a dash', { account_id: '-acme' }, 'account_id'],
    ['account_id of 65 characters', { account_id: 'a'.repeat(65) }, 'account_id'],
    ['account_id empty', { account_id: '' }, 'account_id'],
    ['account_id a number', { account_id: 42 }, 'account_id'],
    ['include_subaccounts a string', { include_subaccounts: 'true' }, 'include_subaccounts'],
    ['include_subaccounts a number', { include_subaccounts: 1 }, 'include_subaccounts'],
    ['date_start missing', { date_start: undefined }, 'date_start'],
    ['date_start a date only', { date_start: '2026-06-01' }, 'date_start'],
    ['date_start without an offset', { date_start: '2026-06-01T00:00:00' }, 'date_start'],
    ['date_start not a real date', { date_start: '2026-02-30T00:00:00Z' }, 'date_start'],
    ['date_start a number', { date_start: 1780272000000 }, 'date_start'],
    ['date_start in another format', { date_start: 'Mon, 01 Jun 2026 00:00:00 GMT' }, 'date_start'],
    ['date_end missing', { date_end: undefined }, 'date_end'],
    ['date_end without an offset', { date_end: '2026-06-02T00:00:00' }, 'date_end'],
    ['date_end not RFC 3339', { date_end: 'tomorrow' }, 'date_end'],
    ['date_end equal to date_start', { date_end: '2026-06-01T00:00:00Z' }, 'date_end'],
    ['date_end before date_start', { date_end: '2026-05-31T23:59:59Z' }, 'date_end'],
    ['date_end before date_start by its offset', { date_end: '2026-06-01T01:00:00+02:00' }, 'date_end'],
    [`a span over ${MAX_REPORT_SPAN_MONTHS} months`, { date_start: '2025-06-01T00:00:00Z', date_end: '2026-07-01T00:00:01Z' }, 'date_end'],
    ['date_start older than the CDR retention', { date_start: '2025-05-15T11:59:59Z' }, 'date_start'],
    ['direction unknown', { direction: 'both' }, 'direction'],
    ['direction in upper case', { direction: 'OUTBOUND' }, 'direction'],
    ['status of another product', { product: 'VOICE-CALL', status: 'delivered' }, 'status'],
    ['status list with one of another product', { product: 'VOICE-CALL', status: ['answered', 'read'] }, 'status'],
    ['status unknown', { status: 'lost' }, 'status'],
    ['status an empty list', { status: [] }, 'status'],
    ['status a number', { status: 5 }, 'status'],
    ['status a list with a non-string', { status: ['delivered', 1] }, 'status'],
    ['status listing a value twice', { status: ['delivered', 'delivered'] }, 'status'],
    ['from with a bad character', { from: '+44#20' }, 'from'],
    ['from with * not at the end', { from: '+44*20' }, 'from'],
    ['from only *', { from: '*' }, 'from'],
    ['from of 33 characters', { from: '1'.repeat(33) }, 'from'],
    ['from a number', { from: 4420 }, 'from'],
    ['from empty', { from: '' }, 'from'],
    ['to with a bad character', { to: 'ACME;DROP' }, 'to'],
    ['to with two *', { to: '+1**' }, 'to'],
    ['country of three letters', { country: 'GBR' }, 'country'],
    ['country of one letter', { country: 'G' }, 'country'],
    ['country in lower case', { country: 'gb' }, 'country'],
    ['country a number', { country: 44 }, 'country'],
    ['network longer than 64', { network: '2'.repeat(65) }, 'network'],
    ['hangup_cause not a string', { hangup_cause: 16 }, 'hangup_cause'],
    ['client_ref longer than 256', { client_ref: 'x'.repeat(257) }, 'client_ref'],
    ['min_duration negative', { min_duration: -1 }, 'min_duration'],
    ['min_duration fractional', { min_duration: 1.5 }, 'min_duration'],
    ['min_duration a string', { min_duration: '10' }, 'min_duration'],
    ['min_duration beyond int4', { min_duration: 2 ** 31 }, 'min_duration'],
    ['fields with an unknown column', { fields: ['id', 'price_eur'] }, 'fields'],
    ['fields naming a column twice', { fields: ['id', 'start_time', 'id'] }, 'fields'],
    ['fields an empty list', { fields: [] }, 'fields'],
    ['fields a string', { fields: 'id,start_time' }, 'fields'],
    ['fields with a non-string', { fields: ['id', 7] }, 'fields'],
    ['include_message a string', { include_message: 'yes' }, 'include_message'],
    ['include_message with fields lacking message_body', { include_message: true, fields: ['id', 'start_time'] }, 'include_message'],
    ['timezone unknown', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['timezone an offset', { timezone: '+02:00' }, 'timezone'],
    ['timezone empty', { timezone: '' }, 'timezone'],
    ['timezone a number', { timezone: 1 }, 'timezone'],
    ['compression unknown', { compression: 'bzip2' }, 'compression'],
    ['compression in upper case', { compression: 'GZIP' }, 'compression'],
    ['callback_url with ftp', { callback_url: 'ftp://hooks.example.com/cdr' }, 'callback_url'],
    ['callback_url with javascript:', { callback_url: 'javascript:alert(1)' }, 'callback_url'],
    ['callback_url not a URL', { callback_url: 'not a url' }, 'callback_url'],
    ['callback_url relative', { callback_url: '/hooks/cdr' }, 'callback_url'],
    ['callback_url not a string', { callback_url: { href: 'https://hooks.example.com' } }, 'callback_url'],
    ['format unknown', { format: 'xml' }, 'format'],
    ['format in upper case', { format: 'JSONL' }, 'format'],
    ['an unknown field', { colour: 'blue' }, 'colour'],
    ['format not csv, jsonl or parquet', { format: 'xlsx' }, 'format'],
    ['a field in the wrong case', { Product: 'SMS' }, 'Product'],
  ];

  it.each(cases)('%s', (_case, changes, field) => {
    const problems = problemsOf(body(changes));
    expect(problems).toEqual([{ name: field, reason: expect.any(String) }]);
    expect(problems[0]!.reason.length).toBeGreaterThan(5);
  });

  it('names the unknown and the repeated columns of fields', () => {
    const reasons = problemsOf(body({ fields: ['id', 'price_eur', 'id', 'colour'] })).map((p) => `${p.name}: ${p.reason}`);
    expect(reasons).toEqual([expect.stringMatching(/^fields: .*"price_eur".*"colour"/), expect.stringMatching(/^fields: .*repeated.*"id"/)]);
  });

  it('names the statuses that do not belong to the product', () => {
    const [problem] = problemsOf(body({ product: 'VOICE-CALL', status: ['answered', 'delivered'] }));
    expect(problem?.reason).toMatch(/"delivered"/);
    expect(problem?.reason).not.toMatch(/"answered"/);
  });

  it.each([
    ['null', null],
    ['an array', [{ product: 'SMS' }]],
    ['a string', '{"product":"SMS"}'],
    ['a number', 42],
    ['undefined', undefined],
  ])('rejects %s as the body', (_case, input) => {
    expect(problemsOf(input)).toEqual([{ name: 'body', reason: 'must be a JSON object' }]);
  });

  it('reports every problem at once, each named by its field', () => {
    const problems = problemsOf({
      account_id: 'bad id',
      include_subaccounts: 'no',
      date_start: '2026-06-01',
      date_end: 'soon',
      direction: 'sideways',
      status: [],
      from: 'a#b',
      to: '1*2',
      country: 'GBR',
      min_duration: -5,
      fields: ['id', 'id'],
      include_message: 1,
      timezone: 'Nowhere/Land',
      compression: 'rar',
      callback_url: 'ftp://x',
      colour: 'blue',
    });
    expect(problems.map((p) => p.name).sort()).toEqual(
      [
        'account_id',
        'callback_url',
        'colour',
        'compression',
        'country',
        'date_end',
        'date_start',
        'direction',
        'fields',
        'from',
        'include_message',
        'include_subaccounts',
        'min_duration',
        'product',
        'status',
        'timezone',
        'to',
      ].sort(),
    );
  });

  it('throws a ValidationError whose message lists every field', () => {
    expect(() => parseReportRequest({ date_start: 'x' }, context)).toThrow(ValidationError);
    expect(() => parseReportRequest({ date_start: 'x' }, context)).toThrow(/product: .*date_start: .*date_end: /);
  });
});
