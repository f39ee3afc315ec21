import {
  CDR_COLUMN_NAMES,
  compareInstants,
  isCdrAccountId,
  isCdrDecimal,
  isNullableCdrColumn,
  parseRfc3339,
  validateCdrHeader,
  validateCdrRecord,
  type CdrRecord,
  type CdrRecordFacts,
} from '@cdr-reports/domain';

const voiceCall = (): CdrRecord => ({
  id: '0b0e3c52-5d0a-4c8e-9a51-3b8f6c2d7e10',
  account_id: 'acme',
  product: 'VOICE-CALL',
  direction: 'outbound',
  from: '+442079460000',
  to: '+14155550100',
  start_time: '2026-03-01T10:15:00Z',
  answer_time: '2026-03-01T10:15:07.250Z',
  end_time: '2026-03-01T10:17:07.250Z',
  duration: '127',
  billsec: '120',
  status: 'answered',
  hangup_cause: 'NORMAL_CLEARING',
  country: 'US',
  network: '310260',
  currency: 'EUR',
  price: '0.0125',
  total_price: '0.02500000',
  parts: null,
  client_ref: 'order-1',
  message_body: null,
});

const sms = (): CdrRecord => ({
  ...voiceCall(),
  product: 'SMS',
  from: 'ACME',
  answer_time: null,
  end_time: '2026-03-01T10:15:03Z',
  duration: '0',
  billsec: '0',
  status: 'delivered',
  hangup_cause: null,
  parts: '2',
  message_body: 'Hi "Anna", line one,\nline two 🎉',
});

const problemOf = (changes: CdrRecord, base: () => CdrRecord = voiceCall) => validateCdrRecord({ ...base(), ...changes });

describe('validateCdrRecord', () => {
  it('accepts a complete voice call and a complete message', () => {
    expect(validateCdrRecord(voiceCall())).toBeUndefined();
    expect(validateCdrRecord(sms())).toBeUndefined();
  });

  it('reports the start time in epoch milliseconds of a valid record', () => {
    const facts: CdrRecordFacts = { startTimeMs: 0 };
    expect(validateCdrRecord({ ...voiceCall(), start_time: '2026-03-01T11:15:00.5+01:00' }, facts)).toBeUndefined();
    expect(facts.startTimeMs).toBe(Date.UTC(2026, 2, 1, 10, 15, 0, 500));
  });

  it('accepts null (or absent) for every nullable column', () => {
    const record = voiceCall();
    for (const name of CDR_COLUMN_NAMES.filter(isNullableCdrColumn)) record[name] = null;
    expect(validateCdrRecord(record)).toBeUndefined();
    const absent: CdrRecord = Object.fromEntries(Object.entries(voiceCall()).filter(([name]) => !isNullableCdrColumn(name)));
    expect(validateCdrRecord(absent)).toBeUndefined();
  });

  it.each(['id', 'account_id', 'product', 'direction', 'from', 'to', 'start_time', 'duration', 'billsec', 'status', 'currency', 'price', 'total_price'])(
    'requires %s (null, empty or absent)',
    (name) => {
      expect(problemOf({ [name]: null })).toEqual({ name, reason: 'is required' });
      expect(problemOf({ [name]: '' })).toEqual({ name, reason: 'is required' });
      const record = voiceCall();
      delete record[name];
      expect(validateCdrRecord(record)?.name).toBe(name);
    },
  );

  it.each([
    ['id', 'not-a-uuid'],
    ['id', '0b0e3c525d0a4c8e9a513b8f6c2d7e10'],
    ['id', '{0b0e3c52-5d0a-4c8e-9a51-3b8f6c2d7e10}'],
    ['id', '0b0e3c52-5d0a-4c8e-9a51-3b8f6c2d7e1g'],
    ['account_id', '-acme'],
    ['account_id', 'acme corp'],
    ['account_id', 'a'.repeat(65)],
    ['product', 'voice'],
    ['product', 'FAX'],
    ['direction', 'Outbound'],
    ['direction', 'both'],
    ['from', '+0441234'],
    ['from', '+1234567890123456'],
    ['from', '=cmd|calc'],
    ['from', 'TwelveChars1'],
    ['to', '+44 20 7946 0000'],
    ['to', '@sender'],
    ['duration', '-1'],
    ['duration', '1.5'],
    ['duration', '2147483648'],
    ['duration', '60s'],
    ['billsec', 'x'],
    ['status', 'delivered'],
    ['status', 'ANSWERED'],
    ['hangup_cause', '=1+2'],
    ['hangup_cause', 'cause\ttab'],
    ['country', 'gb'],
    ['country', 'GBR'],
    ['country', 'ZZ'],
    ['network', '2341'],
    ['network', '23415-x'],
    ['network', 'Vodafone'],
    ['currency', 'eur'],
    ['currency', 'EURO'],
    ['currency', 'ABC'],
    ['price', '1e-8'],
    ['price', '0.123456789'],
    ['price', '1234567890123'],
    ['price', '.5'],
    ['price', '1.'],
    ['price', '+1.5'],
    ['price', '1,5'],
    ['total_price', 'NaN'],
    ['parts', '-1'],
    ['parts', 'two'],
    ['parts', '2147483648'],
  ])('rejects %s = %j', (name, value) => {
    expect(problemOf({ [name]: value })?.name).toBe(name);
  });

  it('names the offending value for structured columns, never for phone numbers', () => {
    expect(problemOf({ price: '1,5' })?.reason).toContain('"1,5"');
    expect(problemOf({ to: '+44 20 7946 0000' })?.reason).not.toContain('7946');
  });

  it('accepts the edges of the decimal, integer and address formats', () => {
    for (const price of ['0', '-0.5', '0.00000001', '123456789012.12345678', '-123456789012.12345678']) {
      expect(problemOf({ price, total_price: price })).toBeUndefined();
    }
    expect(problemOf({ duration: '2147483647', billsec: '2147483647' })).toBeUndefined();
    expect(problemOf({ from: '+12', to: '+123456789012345' })).toBeUndefined();
    expect(problemOf({ from: 'Info 24' }, sms)).toBeUndefined();
    expect(problemOf({ from: '72345' }, sms)).toBeUndefined();
    expect(problemOf({ country: 'XK', currency: 'HRK', network: '23415' })).toBeUndefined();
    expect(problemOf({ hangup_cause: '486' })).toBeUndefined();
    expect(problemOf({ parts: '0' }, sms)).toBeUndefined();
  });

  it('checks statuses per product', () => {
    expect(problemOf({ status: 'read' }, sms)).toBeUndefined();
    expect(problemOf({ status: 'answered' }, sms)?.name).toBe('status');
    for (const status of ['answered', 'failed', 'busy', 'no_answer']) expect(problemOf({ status })).toBeUndefined();
  });

  it('requires billsec <= duration', () => {
    expect(problemOf({ duration: '120', billsec: '120' })).toBeUndefined();
    expect(problemOf({ duration: '119', billsec: '120' })).toEqual({ name: 'billsec', reason: '"120" must not exceed duration (119)' });
  });

  it('requires answer_time and end_time not before start_time, comparing instants to the microsecond', () => {
    expect(problemOf({ answer_time: '2026-03-01T10:14:59.999999Z' })?.name).toBe('answer_time');
    expect(problemOf({ end_time: '2026-03-01T11:14:59+01:00' })?.name).toBe('end_time');
    expect(problemOf({ answer_time: '2026-03-01T10:15:00Z', end_time: '2026-03-01T11:15:00+01:00' })).toBeUndefined();
    expect(
      problemOf({ start_time: '2026-03-01T10:15:00.000002Z', answer_time: '2026-03-01T10:15:00.000001Z', end_time: null })?.name,
    ).toBe('answer_time');
    expect(
      problemOf({ start_time: '2026-03-01T10:15:00.000002Z', answer_time: '2026-03-01T10:15:00.000002Z', end_time: null }),
    ).toBeUndefined();
  });

  it('rejects NUL characters and unpaired surrogates in free text, and nothing else', () => {
    expect(problemOf({ message_body: 'a\u0000b' }, sms)?.name).toBe('message_body');
    expect(problemOf({ client_ref: 'ref\u0000' })?.name).toBe('client_ref');
    expect(problemOf({ message_body: 'broken \ud83d pair' }, sms)?.name).toBe('message_body');
    expect(problemOf({ message_body: '=SUM(A1), "quoted"\r\n\ttab \\ 😀 مرحبا' }, sms)).toBeUndefined();
    expect(problemOf({ client_ref: '=HYPERLINK("x")' })).toBeUndefined();
  });

  it.each([
    ['2026-03-01 10:15:00Z', 'a space for T'],
    ['2026-03-01T10:15:00', 'no offset'],
    ['2026-03-01T10:15Z', 'no seconds'],
    ['2026-03-01T10:15:00+0100', 'offset without colon'],
    ['2026-03-01T10:15:00+01', 'offset without minutes'],
    ['2026-03-01T10:15:00.1234567Z', '7 fractional digits'],
    ['2026-03-01T10:15:00.Z', 'an empty fraction'],
    ['2026-02-30T10:15:00Z', 'February 30th'],
    ['2025-02-29T10:15:00Z', 'February 29th of a common year'],
    ['2026-13-01T10:15:00Z', 'month 13'],
    ['2026-03-01T24:00:00Z', 'hour 24'],
    ['2026-03-01T10:60:00Z', 'minute 60'],
    ['2026-06-30T23:59:60Z', 'a leap second'],
    ['2026-03-01T10:15:00+24:00', 'offset hour 24'],
    ['1969-12-31T23:59:59Z', 'before the epoch'],
    ['0000-01-01T00:00:00Z', 'year zero'],
    ['1772360100', 'epoch seconds'],
    [' 2026-03-01T10:15:00Z', 'a leading space'],
    ['2026-03-01T10:15:00Z ', 'a trailing space'],
    ['２０２６-03-01T10:15:00Z', 'non-ASCII digits'],
  ])('rejects start_time %j (%s)', (value) => {
    expect(problemOf({ start_time: value, answer_time: null, end_time: null })?.name).toBe('start_time');
    expect(parseRfc3339(value)).toBeUndefined();
  });

  it('explains leap seconds and excess precision specifically', () => {
    expect(problemOf({ start_time: '2026-06-30T23:59:60Z' })?.reason).toContain('leap seconds');
    expect(problemOf({ start_time: '2026-03-01T10:15:00.1234567Z' })?.reason).toContain('at most 6 fractional digits');
    expect(problemOf({ start_time: '2026-02-30T10:15:00Z' })?.reason).toContain('not a real date');
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-03-01T10:15:00Z', Date.UTC(2026, 2, 1, 10, 15), 0],
    ['2026-03-01t10:15:00z', Date.UTC(2026, 2, 1, 10, 15), 0],
    ['2026-03-01T11:45:00+01:30', Date.UTC(2026, 2, 1, 10, 15), 0],
    ['2026-03-01T05:15:00-05:00', Date.UTC(2026, 2, 1, 10, 15), 0],
    ['2026-03-01T10:15:00-00:00', Date.UTC(2026, 2, 1, 10, 15), 0],
    ['2026-03-01T10:15:00.1Z', Date.UTC(2026, 2, 1, 10, 15, 0, 100), 0],
    ['2026-03-01T10:15:00.123456Z', Date.UTC(2026, 2, 1, 10, 15, 0, 123), 456],
    ['2024-02-29T23:59:59.999999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999), 999],
    ['2000-02-29T00:00:00Z', Date.UTC(2000, 1, 29), 0],
    ['1970-01-01T00:00:00Z', 0, 0],
    ['1970-01-01T01:00:00+01:00', 0, 0],
    ['9999-12-31T23:59:59.999999Z', Date.UTC(9999, 11, 31, 23, 59, 59, 999), 999],
  ])('reads %s as an instant', (text, epochMs, micros) => {
    expect(parseRfc3339(text)).toEqual({ epochMs, micros });
  });

  it('rejects 1900-02-29 (not a leap year) and instants that an offset moves out of range', () => {
    expect(parseRfc3339('1900-02-29T00:00:00Z')).toBeUndefined();
    expect(parseRfc3339('1970-01-01T00:30:00+01:00')).toBeUndefined();
    expect(parseRfc3339('9999-12-31T23:00:00-02:00')).toBeUndefined();
  });

  it('orders instants to the microsecond', () => {
    const a = parseRfc3339('2026-03-01T10:15:00.000001Z')!;
    const b = parseRfc3339('2026-03-01T11:15:00.000002+01:00')!;
    expect(compareInstants(a, b)).toBeLessThan(0);
    expect(compareInstants(b, a)).toBeGreaterThan(0);
    expect(compareInstants(a, a)).toBe(0);
  });
});

describe('validateCdrHeader', () => {
  it('accepts the canonical columns in any order', () => {
    expect(validateCdrHeader(CDR_COLUMN_NAMES)).toBeUndefined();
    expect(validateCdrHeader([...CDR_COLUMN_NAMES].reverse())).toBeUndefined();
  });

  it('names missing, unknown and repeated columns', () => {
    const header = [...CDR_COLUMN_NAMES.filter((n) => n !== 'price' && n !== 'parts'), 'Price', 'status', 'extra'];
    expect(validateCdrHeader(header)).toBe('header: missing columns: price, parts; unknown columns: "Price", "extra"; repeated columns: status');
  });
});

describe('small predicates', () => {
  it('isCdrDecimal allows up to 12 integer and 8 fractional digits', () => {
    expect(['0', '-0', '12.5', '-0.00000001', '999999999999.99999999'].every(isCdrDecimal)).toBe(true);
    expect(['', '-', '1.000000001', '9999999999999', '1e3', ' 1'].some(isCdrDecimal)).toBe(false);
  });

  it('isCdrAccountId follows the accounts table', () => {
    expect(isCdrAccountId('acme_EU-1.prod')).toBe(true);
    expect(isCdrAccountId('_acme')).toBe(false);
  });

  it('isNullableCdrColumn follows the catalog', () => {
    expect(CDR_COLUMN_NAMES.filter(isNullableCdrColumn)).toEqual([
      'answer_time',
      'end_time',
      'hangup_cause',
      'country',
      'network',
      'parts',
      'client_ref',
      'message_body',
    ]);
    expect(isNullableCdrColumn('nonsense')).toBe(false);
  });
});
