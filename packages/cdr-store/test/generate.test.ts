import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { CsvParser, defaultGenerationRange, generateCdrs, writeCdrs, type CdrGeneratorOptions } from '@cdr-reports/cdr-store';
import { CDR_COLUMN_NAMES, MESSAGE_STATUSES, VOICE_STATUSES, parseRfc3339, validateCdrRecord, type CdrRecord } from '@cdr-reports/domain';
import { formatUnits, mulDivRound, roundUnits, toUnits } from '../src/generate/decimal';
import { messageParts } from '../src/generate/sms-parts';

const OPTIONS: CdrGeneratorOptions = {
  rows: 5000,
  accounts: ['acme', 'globex', 'initech'],
  from: new Date('2026-01-01T00:00:00Z'),
  to: new Date('2026-03-01T00:00:00Z'),
  seed: 42,
};

describe('generateCdrs', () => {
  const records = [...generateCdrs(OPTIONS)];

  it('makes the number of records asked for, each of them valid', () => {
    expect(records).toHaveLength(5000);
    const problems = records.map((r, i) => [i, validateCdrRecord(r)] as const).filter(([, p]) => p !== undefined);
    expect(problems).toEqual([]);
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    for (const record of records) expect(Object.keys(record)).toEqual(CDR_COLUMN_NAMES);
  });

  it('is deterministic for a seed and different for another', () => {
    expect([...generateCdrs(OPTIONS)]).toEqual(records);
    const other = [...generateCdrs({ ...OPTIONS, seed: 43 })];
    expect(other.map((r) => r.id)).not.toEqual(records.map((r) => r.id));
  });

  it('covers every product, direction and status, even in a small run', () => {
    const small = [...generateCdrs({ ...OPTIONS, rows: 36 })];
    const seen = new Set(small.map((r) => `${r.product}/${r.direction}/${r.status}`));
    const expected = [
      ...VOICE_STATUSES.flatMap((s) => [`VOICE-CALL/inbound/${s}`, `VOICE-CALL/outbound/${s}`]),
      ...MESSAGE_STATUSES.flatMap((s) => ['SMS', 'MESSAGES'].flatMap((p) => [`${p}/inbound/${s}`, `${p}/outbound/${s}`])),
    ];
    expect([...seen].sort()).toEqual(expected.sort());
  });

  it('spreads start times over the range, in order, across every account', () => {
    const starts = records.map((r) => parseRfc3339(r.start_time!)!.epochMs);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(OPTIONS.from!.getTime());
    expect(Math.max(...starts)).toBeLessThan(OPTIONS.to!.getTime());
    expect(starts.every((t, i) => i === 0 || t >= starts[i - 1]!)).toBe(true);
    const januaryShare = starts.filter((t) => t < Date.UTC(2026, 1, 1)).length / starts.length;
    expect(januaryShare).toBeGreaterThan(0.45);
    expect(januaryShare).toBeLessThan(0.6);
    expect(new Set(records.map((r) => r.account_id))).toEqual(new Set(OPTIONS.accounts));
  });

  it('looks like carrier traffic: countries, networks, numbers, sender ids, offsets', () => {
    expect(new Set(records.map((r) => r.country)).size).toBeGreaterThan(15);
    expect(new Set(records.map((r) => r.network)).size).toBeGreaterThan(40);
    expect(records.some((r) => r.network === null)).toBe(true);
    expect(records.some((r) => /^[A-Za-z]/.test(r.from!))).toBe(true);
    expect(records.filter((r) => r.direction === 'inbound').every((r) => r.from!.startsWith('+'))).toBe(true);
    expect(records.some((r) => /[+-]\d{2}:\d{2}$/.test(r.start_time!) && !r.start_time!.endsWith('+00:00'))).toBe(true);
    expect(records.some((r) => /\.\d{6}Z$/.test(r.start_time!))).toBe(true);
  });

  it('gives voice calls consistent times, durations, causes and per-second prices', () => {
    for (const r of records.filter((x) => x.product === 'VOICE-CALL')) {
      const start = parseRfc3339(r.start_time!)!.epochMs;
      const end = parseRfc3339(r.end_time!)!.epochMs;
      expect(Number(r.duration)).toBe(Math.floor((end - start) / 1000));
      if (r.status === 'answered') {
        const answer = parseRfc3339(r.answer_time!)!.epochMs;
        expect(Number(r.billsec)).toBe(Math.floor((end - answer) / 1000));
      } else {
        expect([r.answer_time, r.billsec]).toEqual([null, '0']);
      }
      expect(r.hangup_cause).toMatch(/^[A-Z_]+$/);
      expect([r.parts, r.message_body]).toEqual([null, null]);
      expect(toUnits(r.total_price!)).toBe(mulDivRound(toUnits(r.price!), BigInt(r.billsec!), 60n));
    }
  });

  it('gives messages bodies that break naive CSV, parts, and total = price x parts, exactly', () => {
    const messages = records.filter((r) => r.product !== 'VOICE-CALL');
    const bodies = messages.map((r) => r.message_body!);
    for (const pattern of [/,/, /"/, /\n/, /\r\n/, /\t/, /\\/, /[^ -~\s]/, /\p{Extended_Pictographic}/u]) {
      expect(bodies.some((b) => pattern.test(b))).toBe(true);
    }
    for (const r of messages) {
      expect([r.duration, r.billsec, r.hangup_cause, r.answer_time]).toEqual(['0', '0', null, null]);
      expect(toUnits(r.total_price!)).toBe(toUnits(r.price!) * BigInt(r.parts!));
    }
    expect(messages.some((r) => r.parts !== '1')).toBe(true);
    expect(messages.some((r) => r.price!.startsWith('-'))).toBe(true);
  });

  it('writes prices with 4 to 8 decimals', () => {
    const decimals = new Set(records.map((r) => r.price!.split('.')[1]?.length));
    expect([...decimals].sort()).toEqual([4, 5, 6, 7, 8]);
  });

  it('includes client references that spreadsheets would run as formulas', () => {
    const refs = [...generateCdrs({ ...OPTIONS, rows: 10 })].map((r) => r.client_ref ?? '');
    for (const first of ['=', '+', '-', '@']) expect(refs.some((ref) => ref.startsWith(first))).toBe(true);
    expect(records.filter((r) => r.client_ref !== null).length).toBeGreaterThan(1000);
  });

  it('makes records of the chosen products only, every status of theirs included', () => {
    const voice = [...generateCdrs({ ...OPTIONS, rows: 2_000, products: ['VOICE-CALL'] })];
    expect(new Set(voice.map((r) => r.product))).toEqual(new Set(['VOICE-CALL']));
    expect(new Set(voice.map((r) => r.status))).toEqual(new Set(['answered', 'no_answer', 'busy', 'failed']));
    const messages = [...generateCdrs({ ...OPTIONS, rows: 2_000, products: ['SMS', 'MESSAGES'] })];
    expect(new Set(messages.map((r) => r.product))).toEqual(new Set(['SMS', 'MESSAGES']));
    expect(() => [...generateCdrs({ ...OPTIONS, products: [] })]).toThrow(/product/);
  });

  it('refuses impossible options', () => {
    expect(() => [...generateCdrs({ ...OPTIONS, accounts: [] })]).toThrow(/account/);
    expect(() => [...generateCdrs({ ...OPTIONS, to: OPTIONS.from })]).toThrow(/empty/);
    expect(() => [...generateCdrs({ ...OPTIONS, rows: -1 })]).toThrow(/rows/);
  });

  it('defaults to the 30 days before now', () => {
    const now = new Date('2026-05-31T12:00:00Z');
    expect(defaultGenerationRange(now)).toEqual({ from: new Date('2026-05-01T12:00:00Z'), to: now });
  });
});

describe('writeCdrs', () => {
  const records = [...generateCdrs({ ...OPTIONS, rows: 300 })];

  async function written(options: Parameters<typeof writeCdrs>[2]): Promise<Buffer> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    expect(await writeCdrs(records, out, options)).toBe(records.length);
    return Buffer.concat(chunks);
  }

  function parseCsv(text: string): CdrRecord[] {
    const rows: string[][] = [];
    const parser = new CsvParser({ record: (fields) => rows.push(fields), malformed: (line, reason) => fail(`line ${line}: ${reason}`) });
    parser.push(text);
    parser.end();
    const [header, ...data] = rows;
    return data.map((fields) => Object.fromEntries(header!.map((name, i) => [name, fields[i] === '' ? null : fields[i]!])));
  }

  it('writes CSV with the canonical header that reads back to the same records, also gzip-compressed', async () => {
    const plain = (await written({ format: 'csv' })).toString('utf8');
    expect(plain.split('\n')[0]).toBe(CDR_COLUMN_NAMES.join(','));
    expect(parseCsv(plain)).toEqual(records);
    expect(gunzipSync(await written({ format: 'csv', gzip: true })).toString('utf8')).toBe(plain);
  });

  it('writes NDJSON with counts as numbers and prices as strings', async () => {
    const lines = (await written({ format: 'ndjson' })).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(typeof first.duration).toBe('number');
    expect(typeof first.price).toBe('string');
    const back = lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((o) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : String(v)])),
    );
    expect(back).toEqual(records);
  });
});

describe('exact decimal helpers', () => {
  it('parses, rounds and formats without floats', () => {
    expect(toUnits('0.0125')).toBe(1_250_000n);
    expect(toUnits('-3.5')).toBe(-350_000_000n);
    expect(toUnits('12345678901.12345678')).toBe(1_234_567_890_112_345_678n);
    expect(formatUnits(1_250_000n, 4)).toBe('0.0125');
    expect(formatUnits(1_234_567n, 4)).toBe('0.01234567');
    expect(formatUnits(-50_000_000n, 4)).toBe('-0.5000');
    expect(formatUnits(0n, 4)).toBe('0.0000');
    expect(mulDivRound(1n, 1n, 2n)).toBe(1n);
    expect(mulDivRound(-1n, 1n, 2n)).toBe(-1n);
    expect(mulDivRound(1_250_000n, 61n, 60n)).toBe(1_270_833n);
    expect(roundUnits(1_234_567n, 4)).toBe(1_230_000n);
    expect(roundUnits(1_235_000n, 5)).toBe(1_235_000n);
    expect(roundUnits(1_235_000n, 4)).toBe(1_240_000n);
    expect(roundUnits(-1_235_000n, 4)).toBe(-1_240_000n);
  });
});

describe('messageParts', () => {
  it('counts GSM-7 septets and UCS-2 units', () => {
    expect(messageParts('a'.repeat(160))).toBe(1);
    expect(messageParts('a'.repeat(161))).toBe(2);
    expect(messageParts('€'.repeat(80))).toBe(1);
    expect(messageParts('€'.repeat(81))).toBe(2);
    expect(messageParts('é'.repeat(70))).toBe(1);
    expect(messageParts('ę'.repeat(70))).toBe(1);
    expect(messageParts('ę'.repeat(71))).toBe(2);
    expect(messageParts('😀'.repeat(35))).toBe(1);
    expect(messageParts('😀'.repeat(36))).toBe(2);
  });
});
