/**
 * Which records a report holds: every request field alone and some combined, each checked against the rows
 * computed here, independently, from the records loaded (filter in JS, order by start_time then id).
 */
import { generateCdrs } from '@cdr-reports/cdr-store';
import type { CdrRecord } from '@cdr-reports/domain';
import {
  cdrFactory,
  expectedSummary,
  inFileOrder,
  micros,
  normalDecimal,
  readReportFile,
  rowObjects,
  useReportCluster,
  type ReportFileContent,
  type ReportResource,
} from '@cdr-reports/testing';

const ACCOUNTS = ['acme', 'acme-uk', 'acme-fr', 'acme-uk-lon', 'other'] as const;
type AccountId = (typeof ACCOUNTS)[number];
const MARCH = { date_start: '2026-03-01T00:00:00Z', date_end: '2026-04-01T00:00:00Z' };
const ACME_TREE = new Set(['acme', 'acme-uk', 'acme-fr', 'acme-uk-lon']);

/** The cell of a free-text value: empty for null, a leading apostrophe where a spreadsheet would see a formula. */
const freeText = (value: string | null | undefined) => (value === null || value === undefined ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/** A valid SMS of account acme with a fresh id (in a group of its own: 9000); `changes` override any column. */
const cdr = cdrFactory({ idGroup: '9000', startTime: '2026-03-20T09:00:00Z', columns: { end_time: null } });

// Records exactly on and a microsecond off the bounds of [2026-03-15, 2026-03-16).
const BOUNDS = {
  beforeStart: cdr({ start_time: '2026-03-14T23:59:59.999999Z' }),
  atStart: cdr({ start_time: '2026-03-15T00:00:00Z' }),
  beforeEnd: cdr({ start_time: '2026-03-15T23:59:59.999999Z' }),
  atEnd: cdr({ start_time: '2026-03-16T00:00:00Z' }),
  // The start instant written at another offset.
  atStartParis: cdr({ start_time: '2026-03-15T01:00:00+01:00', id: '00000000-0000-4000-9000-0000000000ff' }),
};
// client_ref values that would break out of a naively quoted SQL string.
const HOSTILE_REFS = [
  cdr({ client_ref: "O'Brien" }),
  cdr({ client_ref: "O'Brien \\ x" }),
  cdr({ client_ref: "O''Brien" }),
  cdr({ client_ref: "x' OR '1'='1" }),
  cdr({ client_ref: 'back\\slash\\' }),
  cdr({ client_ref: '=1+2' }),
  cdr({ client_ref: '=1+2', account_id: 'acme-uk-lon' }),
];
const DURATIONS = [
  cdr({ product: 'VOICE-CALL', status: 'answered', duration: '60', billsec: '55', parts: null, message_body: null, hangup_cause: 'NORMAL_CLEARING', start_time: '2026-03-21T10:00:00Z', end_time: '2026-03-21T10:01:00Z' }),
  cdr({ product: 'VOICE-CALL', status: 'answered', duration: '59', billsec: '50', parts: null, message_body: null, hangup_cause: 'NORMAL_CLEARING', start_time: '2026-03-21T10:00:00Z', end_time: '2026-03-21T10:00:59Z' }),
];
const HAND = [...Object.values(BOUNDS), ...HOSTILE_REFS, ...DURATIONS];

// Realistic records over the whole hierarchy and a stranger, every product, direction and status.
const GENERATED = [
  ...generateCdrs({ rows: 6000, accounts: ACCOUNTS, from: new Date('2026-02-25T00:00:00Z'), to: new Date('2026-04-03T00:00:00Z'), seed: 20260301 }),
];
const RECORDS = [...GENERATED, ...HAND];

/** The values a column takes among `records`, most frequent first. */
function frequent(column: string, records: CdrRecord[] = GENERATED): string[] {
  const counts = new Map<string, number>();
  for (const record of records) {
    const value = record[column];
    if (value !== null && value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([value]) => value);
}

const inMarch = (r: CdrRecord) => micros(r.start_time!) >= micros(MARCH.date_start) && micros(r.start_time!) < micros(MARCH.date_end);
const acmeSms = (r: CdrRecord) => r.account_id === 'acme' && r.product === 'SMS' && inMarch(r);
const acmeVoice = (r: CdrRecord) => r.account_id === 'acme' && r.product === 'VOICE-CALL' && inMarch(r);

// Filter values taken from the data, so that each filter keeps some records and drops others.
const SMS_OF_ACME = GENERATED.filter(acmeSms);
const A_FROM = frequent('from', SMS_OF_ACME.filter((r) => r.from!.startsWith('+')))[0]!;
const A_TO = frequent('to', SMS_OF_ACME)[0]!;
const A_NETWORK = frequent('network', SMS_OF_ACME)[0]!;
const A_COUNTRY = frequent('country', SMS_OF_ACME)[0]!;
const FROM_PREFIX = A_FROM.slice(0, 4);
const TO_PREFIX = A_TO.slice(0, 3);
const A_SENDER_ID = frequent('from', SMS_OF_ACME.filter((r) => !r.from!.startsWith('+')))[0]!;

interface Case {
  /** Whose key asks. */
  as: AccountId;
  body: Record<string, unknown>;
  /** The records the file must hold, by an independent reading of the request. */
  expected: (r: CdrRecord) => boolean;
  /** An empty result is what the case proves. */
  empty?: boolean;
}

const CASES: Record<string, Case> = {
  'product VOICE-CALL': { as: 'acme', body: { product: 'VOICE-CALL', ...MARCH }, expected: acmeVoice },
  'product SMS': { as: 'acme', body: { product: 'SMS', ...MARCH }, expected: acmeSms },
  'product MESSAGES': { as: 'acme', body: { product: 'MESSAGES', ...MARCH }, expected: (r) => r.account_id === 'acme' && r.product === 'MESSAGES' && inMarch(r) },
  'account_id defaults to the key account (a subaccount key)': {
    as: 'acme-uk',
    body: { product: 'SMS', ...MARCH },
    expected: (r) => r.account_id === 'acme-uk' && r.product === 'SMS' && inMarch(r),
  },
  'account_id of a subaccount, asked by the parent (without its own children)': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, account_id: 'acme-uk' },
    expected: (r) => r.account_id === 'acme-uk' && r.product === 'SMS' && inMarch(r),
  },
  'include_subaccounts: parent, children and grandchild, no stranger': {
    as: 'acme',
    body: { product: 'VOICE-CALL', ...MARCH, include_subaccounts: true },
    expected: (r) => ACME_TREE.has(r.account_id!) && r.product === 'VOICE-CALL' && inMarch(r),
  },
  'include_subaccounts from a subaccount: it and its child': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, account_id: 'acme-uk', include_subaccounts: true },
    expected: (r) => (r.account_id === 'acme-uk' || r.account_id === 'acme-uk-lon') && r.product === 'SMS' && inMarch(r),
  },
  'date_start inclusive, date_end exclusive, on start_time': {
    as: 'acme',
    body: { product: 'SMS', date_start: '2026-03-15T00:00:00Z', date_end: '2026-03-16T00:00:00Z' },
    expected: (r) => r.account_id === 'acme' && r.product === 'SMS' && micros(r.start_time!) >= micros('2026-03-15T00:00:00Z') && micros(r.start_time!) < micros('2026-03-16T00:00:00Z'),
  },
  'date bounds given with offsets': {
    as: 'acme',
    body: { product: 'SMS', date_start: '2026-03-15T01:00:00+01:00', date_end: '2026-03-15T20:00:00-04:00' },
    expected: (r) => r.account_id === 'acme' && r.product === 'SMS' && micros(r.start_time!) >= micros('2026-03-15T00:00:00Z') && micros(r.start_time!) < micros('2026-03-16T00:00:00Z'),
  },
  'date bounds to the microsecond': {
    as: 'acme',
    body: { product: 'SMS', date_start: '2026-03-15T00:00:00.000001Z', date_end: '2026-03-16T00:00:00.000001Z' },
    expected: (r) =>
      r.account_id === 'acme' && r.product === 'SMS' && micros(r.start_time!) >= micros('2026-03-15T00:00:00.000001Z') && micros(r.start_time!) < micros('2026-03-16T00:00:00.000001Z'),
  },
  'direction inbound': { as: 'acme', body: { product: 'SMS', ...MARCH, direction: 'inbound' }, expected: (r) => acmeSms(r) && r.direction === 'inbound' },
  'direction outbound': { as: 'acme', body: { product: 'VOICE-CALL', ...MARCH, direction: 'outbound' }, expected: (r) => acmeVoice(r) && r.direction === 'outbound' },
  'status, one value': { as: 'acme', body: { product: 'SMS', ...MARCH, status: 'delivered' }, expected: (r) => acmeSms(r) && r.status === 'delivered' },
  'status, a list': {
    as: 'acme',
    body: { product: 'VOICE-CALL', ...MARCH, status: ['busy', 'no_answer'] },
    expected: (r) => acmeVoice(r) && (r.status === 'busy' || r.status === 'no_answer'),
  },
  'from, exact': { as: 'acme', body: { product: 'SMS', ...MARCH, from: A_FROM }, expected: (r) => acmeSms(r) && r.from === A_FROM },
  'from, a sender id exactly': { as: 'acme', body: { product: 'SMS', ...MARCH, from: A_SENDER_ID }, expected: (r) => acmeSms(r) && r.from === A_SENDER_ID },
  'from, prefix with *': { as: 'acme', body: { product: 'SMS', ...MARCH, from: `${FROM_PREFIX}*` }, expected: (r) => acmeSms(r) && r.from!.startsWith(FROM_PREFIX) },
  'to, exact': { as: 'acme', body: { product: 'SMS', ...MARCH, to: A_TO }, expected: (r) => acmeSms(r) && r.to === A_TO },
  'to, prefix with *': { as: 'acme', body: { product: 'SMS', ...MARCH, to: `${TO_PREFIX}*` }, expected: (r) => acmeSms(r) && r.to!.startsWith(TO_PREFIX) },
  'to, a prefix that is a whole number matches it too': { as: 'acme', body: { product: 'SMS', ...MARCH, to: `${A_TO}*` }, expected: (r) => acmeSms(r) && r.to!.startsWith(A_TO) },
  country: { as: 'acme', body: { product: 'SMS', ...MARCH, country: A_COUNTRY }, expected: (r) => acmeSms(r) && r.country === A_COUNTRY },
  network: { as: 'acme', body: { product: 'SMS', ...MARCH, network: A_NETWORK }, expected: (r) => acmeSms(r) && r.network === A_NETWORK },
  hangup_cause: { as: 'acme', body: { product: 'VOICE-CALL', ...MARCH, hangup_cause: 'USER_BUSY' }, expected: (r) => acmeVoice(r) && r.hangup_cause === 'USER_BUSY' },
  client_ref: {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, include_subaccounts: true, client_ref: 'cmp-2026-spring' },
    expected: (r) => ACME_TREE.has(r.account_id!) && r.product === 'SMS' && inMarch(r) && r.client_ref === 'cmp-2026-spring',
  },
  'client_ref that looks like a formula, matched on its stored value': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, include_subaccounts: true, client_ref: '=1+2' },
    expected: (r) => ACME_TREE.has(r.account_id!) && r.product === 'SMS' && inMarch(r) && r.client_ref === '=1+2',
  },
  "client_ref with ' and \\ matches exactly that value": {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, client_ref: "O'Brien \\ x" },
    expected: (r) => acmeSms(r) && r.client_ref === "O'Brien \\ x",
  },
  "client_ref O''Brien is not O'Brien": { as: 'acme', body: { product: 'SMS', ...MARCH, client_ref: "O''Brien" }, expected: (r) => acmeSms(r) && r.client_ref === "O''Brien" },
  'client_ref ending with a backslash': { as: 'acme', body: { product: 'SMS', ...MARCH, client_ref: 'back\\slash\\' }, expected: (r) => acmeSms(r) && r.client_ref === 'back\\slash\\' },
  'client_ref trying to break out of its string matches nothing': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, client_ref: "nothing' OR '1'='1" },
    expected: () => false,
    empty: true,
  },
  min_duration: { as: 'acme', body: { product: 'VOICE-CALL', ...MARCH, min_duration: 60 }, expected: (r) => acmeVoice(r) && Number(r.duration) >= 60 },
  'combined: voice, hierarchy, direction, statuses, country, min_duration, part of the month': {
    as: 'acme',
    body: {
      product: 'VOICE-CALL',
      date_start: '2026-03-05T00:00:00Z',
      date_end: '2026-03-25T12:00:00Z',
      include_subaccounts: true,
      direction: 'outbound',
      status: ['answered', 'busy'],
      country: A_COUNTRY,
      min_duration: 10,
    },
    expected: (r) =>
      ACME_TREE.has(r.account_id!) &&
      r.product === 'VOICE-CALL' &&
      micros(r.start_time!) >= micros('2026-03-05T00:00:00Z') &&
      micros(r.start_time!) < micros('2026-03-25T12:00:00Z') &&
      r.direction === 'outbound' &&
      (r.status === 'answered' || r.status === 'busy') &&
      r.country === A_COUNTRY &&
      Number(r.duration) >= 10,
  },
  'combined: sms from prefix, to prefix, network, status': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, from: `${FROM_PREFIX}*`, to: `${TO_PREFIX}*`, network: A_NETWORK, status: ['delivered', 'read', 'failed'] },
    expected: (r) =>
      acmeSms(r) && r.from!.startsWith(FROM_PREFIX) && r.to!.startsWith(TO_PREFIX) && r.network === A_NETWORK && ['delivered', 'read', 'failed'].includes(r.status!),
  },
  'combined: filters that exclude each other give an empty SUCCESS': {
    as: 'acme',
    body: { product: 'SMS', ...MARCH, direction: 'inbound', from: 'ACME' },
    expected: (r) => acmeSms(r) && r.direction === 'inbound' && r.from === 'ACME',
    empty: true,
  },
};

describe('worker: which records a report holds', () => {
  // Segments of three days, so that most reports are stitched together from several COPYs.
  const cluster = useReportCluster({ workerOptions: { segmentMs: 3 * 86_400_000 } });
  const keys = {} as Record<AccountId, string>;

  beforeAll(async () => {
    keys.acme = await cluster.account('acme');
    keys['acme-uk'] = await cluster.account('acme-uk', 'acme');
    keys['acme-fr'] = await cluster.account('acme-fr', 'acme');
    keys['acme-uk-lon'] = await cluster.account('acme-uk-lon', 'acme-uk');
    keys.other = await cluster.account('other');
    await cluster.load(RECORDS);
  });

  async function report(as: AccountId, body: Record<string, unknown>): Promise<{ report: ReportResource; content: ReportFileContent }> {
    const created = await cluster.createReport(keys[as], body);
    const done = await cluster.waitForStatus(keys[as], created.request_id, ['SUCCESS', 'FAILED'], 20_000);
    expect({ status: done.request_status, error: done.error ?? null }).toEqual({ status: 'SUCCESS', error: null });
    const content = await readReportFile(await cluster.download(done), 'gzip');
    expect(done.items_count).toBe(content.rows.length);
    return { report: done, content };
  }

  it('has data that makes every case meaningful', () => {
    expect(GENERATED.filter(acmeSms).length).toBeGreaterThan(200);
    expect(A_FROM).toMatch(/^\+\d+$/);
    expect(A_SENDER_ID).toMatch(/^[A-Za-z]/);
  });

  it.each(Object.entries(CASES))('%s', async (_label, { as, body, expected, empty }) => {
    const wanted = inFileOrder(RECORDS.filter(expected));
    if (empty) expect(wanted).toEqual([]);
    else expect(wanted.length).toBeGreaterThan(0);
    const { report: done, content } = await report(as, body);
    const idColumn = content.header.indexOf('id');
    expect(content.rows.map((row) => row[idColumn])).toEqual(wanted.map((r) => r.id!.toLowerCase()));
    const summary = done.summary as { total_price: Record<string, string> };
    expect({ ...summary, total_price: Object.fromEntries(Object.entries(summary.total_price).map(([c, v]) => [c, normalDecimal(v)])) }).toEqual(
      expectedSummary(wanted),
    );
  });

  it('includes the records exactly at date_start (at any offset) and excludes those at date_end', async () => {
    const { content } = await report('acme', { product: 'SMS', date_start: '2026-03-15T00:00:00Z', date_end: '2026-03-16T00:00:00Z', fields: ['id'] });
    const ids = content.rows.map((row) => row[0]);
    expect(ids).toEqual(expect.arrayContaining([BOUNDS.atStart.id, BOUNDS.atStartParis.id, BOUNDS.beforeEnd.id]));
    expect(ids).not.toContain(BOUNDS.beforeStart.id);
    expect(ids).not.toContain(BOUNDS.atEnd.id);
    expect(ids.slice(0, 2)).toEqual([BOUNDS.atStart.id, BOUNDS.atStartParis.id]);
    expect(ids[ids.length - 1]).toBe(BOUNDS.beforeEnd.id);
  });

  it('writes the fields asked for, in the order asked for', async () => {
    const fields = ['to', 'id', 'total_price', 'start_time', 'client_ref', 'country'];
    const { content } = await report('acme', { product: 'SMS', ...MARCH, fields });
    expect(content.csv.toString('utf8').split('\n')[0]).toBe('to,id,total_price,start_time,client_ref,country');
    const wanted = inFileOrder(RECORDS.filter(acmeSms));
    const rows = rowObjects(content);
    expect(rows.map((row) => [row.to, row.id, row.total_price, row.client_ref, row.country])).toEqual(
      wanted.map((r) => [r.to, r.id, r.total_price, freeText(r.client_ref), r.country ?? '']),
    );
    expect(rows.map((row) => micros(row.start_time!))).toEqual(wanted.map((r) => micros(r.start_time!)));
  });

  it('leaves message_body out by default and writes it with include_message or when listed in fields', async () => {
    const defaults = await report('acme', { product: 'SMS', date_start: '2026-03-20T00:00:00Z', date_end: '2026-03-21T00:00:00Z' });
    expect(defaults.content.header).not.toContain('message_body');
    expect(defaults.content.header).toHaveLength(20);

    const included = await report('acme', { product: 'SMS', date_start: '2026-03-20T00:00:00Z', date_end: '2026-03-21T00:00:00Z', include_message: true });
    expect(included.content.header).toEqual([...defaults.content.header, 'message_body']);

    const listed = await report('acme', { product: 'SMS', date_start: '2026-03-20T00:00:00Z', date_end: '2026-03-21T00:00:00Z', fields: ['message_body', 'id'] });
    expect(listed.content.header).toEqual(['message_body', 'id']);
    const wanted = inFileOrder(
      RECORDS.filter((r) => acmeSms(r) && micros(r.start_time!) >= micros('2026-03-20T00:00:00Z') && micros(r.start_time!) < micros('2026-03-21T00:00:00Z')),
    );
    expect(wanted.length).toBeGreaterThan(3);
    // Message bodies (quotes, line ends, emoji, every script) come back exactly.
    expect(listed.content.rows).toEqual(wanted.map((r) => [freeText(r.message_body), r.id]));
    expect(rowObjects(included.content).map((row) => row.message_body)).toEqual(wanted.map((r) => freeText(r.message_body)));
  });
});
