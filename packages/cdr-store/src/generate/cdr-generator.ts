/**
 * Synthetic CDRs that look like a carrier's: voice calls, SMS and OTT messages in both directions with every
 * status, real country codes and networks, exact prices, awkward message bodies. Deterministic for a seed,
 * produced one record at a time (constant memory for any row count), in start_time order.
 */
import { MESSAGE_STATUSES, VOICE_STATUSES, type CdrRecord, type Direction, type Product } from '@cdr-reports/domain';
import { formatUnits, mulDivRound, roundUnits, toUnits } from './decimal';
import { Prng } from './prng';
import {
  CLIENT_REFS,
  COUNTRIES,
  FORMULA_CLIENT_REFS,
  HANGUP_CAUSES,
  HOME_COUNTRIES,
  MESSAGE_TEMPLATES,
  NAMES,
  SENDER_IDS,
  type CountryProfile,
} from './reference-data';
import { messageParts } from './sms-parts';

export interface CdrGeneratorOptions {
  /** How many records. */
  rows: number;
  /** Account ids the records are spread over (at least one). */
  accounts: readonly string[];
  /** Start of the start_time range. Default: 30 days before `to`. */
  from?: Date;
  /** End (exclusive) of the start_time range. Default: now. */
  to?: Date;
  /** Seed of the pseudo-random sequence: the same options and seed give the same records. Default 1. */
  seed?: number;
  /** Only these products (in their usual proportions). Default: all. */
  products?: readonly Product[];
}

type Combination = readonly [Product, Direction, string];

// Every product, direction and status once, first: any run of at least this many rows covers them all.
const COMBINATIONS: readonly Combination[] = (['VOICE-CALL', 'SMS', 'MESSAGES'] as const).flatMap((product) =>
  (['outbound', 'inbound'] as const).flatMap((direction) =>
    (product === 'VOICE-CALL' ? VOICE_STATUSES : MESSAGE_STATUSES).map((status): Combination => [product, direction, status]),
  ),
);

const VOICE_STATUS_WEIGHTS = [['answered', 70], ['no_answer', 12], ['busy', 8], ['failed', 10]] as const;
const SMS_STATUS_WEIGHTS = [['delivered', 78], ['submitted', 5], ['read', 1], ['failed', 5], ['rejected', 3], ['expired', 4], ['undeliverable', 4]] as const;
const OTT_STATUS_WEIGHTS = [['read', 38], ['delivered', 42], ['submitted', 5], ['failed', 5], ['rejected', 4], ['expired', 3], ['undeliverable', 3]] as const;
const COUNTRY_WEIGHTS = COUNTRIES.map((c) => [c, c.weight] as const);
const COUNTRY_BY_CODE = new Map(COUNTRIES.map((c) => [c.code, c]));
// Base rates in units of 10^-8, parsed once rather than once per record.
const VOICE_RATE_UNITS = new Map(COUNTRIES.map((c) => [c, toUnits(c.voiceRate)]));
const SMS_RATE_UNITS = new Map(COUNTRIES.map((c) => [c, toUnits(c.smsRate)]));
const OTT_RATE_UNITS = toUnits('0.0050');
const DAY_MS = 86_400_000;
const PRODUCT_WEIGHTS: ReadonlyArray<readonly [Product, number]> = [['VOICE-CALL', 45], ['SMS', 40], ['MESSAGES', 15]];

interface AccountProfile {
  id: string;
  home: CountryProfile;
  currency: string;
  numbers: string[];
}

/** The default start_time range: the 30 days before `now`. */
export function defaultGenerationRange(now: Date = new Date()): { from: Date; to: Date } {
  return { from: new Date(now.getTime() - 30 * DAY_MS), to: now };
}

/** Yields `rows` synthetic records, lazily. */
export function* generateCdrs(options: CdrGeneratorOptions): Generator<CdrRecord> {
  if (!Number.isSafeInteger(options.rows) || options.rows < 0) throw new RangeError('rows must be a whole number >= 0');
  if (options.accounts.length === 0) throw new RangeError('at least one account is needed');
  const range = defaultGenerationRange(options.to);
  const from = (options.from ?? range.from).getTime();
  const to = (options.to ?? range.to).getTime();
  if (!(to > from)) throw new RangeError('the time range is empty: "to" must be after "from"');
  const random = new Prng(options.seed ?? 1);
  const accounts = options.accounts.map((id) => accountProfile(id, random));
  const products = options.products ?? PRODUCT_WEIGHTS.map(([product]) => product);
  if (products.length === 0) throw new RangeError('at least one product is needed');
  const productWeights = PRODUCT_WEIGHTS.filter(([product]) => products.includes(product));
  const combinations = COMBINATIONS.filter(([product]) => products.includes(product));
  const step = (to - from) / Math.max(options.rows, 1);
  for (let i = 0; i < options.rows; i++) {
    // Ordered start times without sorting: the i-th record falls somewhere in the i-th slice of the range.
    const start = Math.min(to - 1, Math.floor(from + (i + random.next()) * step));
    const combination = combinations[i];
    yield makeRecord(random, random.pick(accounts), start, combination, i, productWeights);
  }
}

function accountProfile(id: string, random: Prng): AccountProfile {
  const homeCountry = random.pick(HOME_COUNTRIES);
  const home = COUNTRY_BY_CODE.get(homeCountry.code)!;
  const numbers = Array.from({ length: 4 }, () => subscriberNumber(random, home));
  return { id, home, currency: homeCountry.currency, numbers };
}

function subscriberNumber(random: Prng, country: CountryProfile): string {
  return `+${country.dial}${random.pick(country.prefixes)}${random.digits(country.digits)}`;
}

function makeRecord(
  random: Prng,
  account: AccountProfile,
  start: number,
  combination: Combination | undefined,
  index: number,
  productWeights: ReadonlyArray<readonly [Product, number]>,
): CdrRecord {
  const product = combination?.[0] ?? random.weighted<Product>(productWeights);
  const direction = combination?.[1] ?? (random.chance(0.65) ? 'outbound' : 'inbound');
  const country = random.chance(0.6) ? account.home : random.weighted(COUNTRY_WEIGHTS);
  const own = random.pick(account.numbers);
  const remote = subscriberNumber(random, country);
  const record: CdrRecord = {
    id: random.uuid(),
    account_id: account.id,
    product,
    direction,
    from: direction === 'outbound' ? own : remote,
    to: direction === 'outbound' ? remote : own,
    start_time: null,
    answer_time: null,
    end_time: null,
    duration: '0',
    billsec: '0',
    status: '',
    hangup_cause: null,
    country: country.code,
    network: random.chance(0.94) ? random.pick(country.networks) : null,
    currency: account.currency,
    price: '0',
    total_price: '0',
    parts: null,
    client_ref: clientRef(random, direction, index),
    message_body: null,
  };
  const timestamps = product === 'VOICE-CALL' ? voiceCall(random, record, country, combination?.[2]) : message(random, record, country, combination?.[2]);
  formatTimestamps(random, record, start, timestamps, country.offset);
  return record;
}

/** Offsets from start_time in milliseconds; null for a timestamp the record does not have. */
interface Timestamps {
  answer: number | null;
  end: number | null;
}

function voiceCall(random: Prng, record: CdrRecord, country: CountryProfile, forced: string | undefined): Timestamps {
  const status = forced ?? random.weighted(VOICE_STATUS_WEIGHTS);
  record.status = status;
  record.hangup_cause = random.weighted<string>(HANGUP_CAUSES[status as keyof typeof HANGUP_CAUSES]);
  // Whole seconds plus milliseconds, so that duration and billsec are exactly the floors of the intervals.
  const ringMs = (status === 'answered' ? random.int(2, 25) : status === 'no_answer' ? random.int(20, 60) : random.int(1, 6)) * 1000 + random.int(0, 999);
  const talk = status === 'answered' ? Math.min(7200, 1 + Math.floor(-Math.log(1 - random.next()) * 110)) : 0;
  const talkMs = talk === 0 ? 0 : talk * 1000 + random.int(0, 999);
  record.duration = String(Math.floor((ringMs + talkMs) / 1000));
  record.billsec = String(talk === 0 ? 0 : Math.floor(talkMs / 1000));
  const rate = priceWithDecimals(random, VOICE_RATE_UNITS.get(country)!);
  record.price = formatUnits(rate.units, rate.decimals);
  // Per-second billing of a per-minute rate, rounded half away from zero to the table's 8 decimals.
  record.total_price = formatUnits(mulDivRound(rate.units, BigInt(record.billsec), 60n), 4);
  return { answer: status === 'answered' ? ringMs : null, end: ringMs + talkMs };
}

function message(random: Prng, record: CdrRecord, country: CountryProfile, forced: string | undefined): Timestamps {
  const product = record.product as Product;
  const status = forced ?? random.weighted(product === 'SMS' ? SMS_STATUS_WEIGHTS : OTT_STATUS_WEIGHTS);
  record.status = status;
  if (record.direction === 'outbound' && product === 'SMS' && random.chance(0.35)) record.from = random.pick(SENDER_IDS);
  const body = messageBody(random);
  record.message_body = body;
  const parts = product === 'SMS' ? messageParts(body) : 1;
  record.parts = String(parts);
  const base = product === 'SMS' ? SMS_RATE_UNITS.get(country)! : OTT_RATE_UNITS;
  const rate = record.direction === 'inbound' && random.chance(0.7) ? { units: 0n, decimals: 4 } : priceWithDecimals(random, base);
  // Now and then a credit for an undelivered message: a negative amount.
  const credit = status === 'failed' && random.chance(0.05);
  const units = credit ? -rate.units : rate.units;
  record.price = formatUnits(units, rate.decimals);
  record.total_price = formatUnits(units * BigInt(parts), 4);
  const end =
    status === 'submitted'
      ? null
      : status === 'read'
        ? random.int(60, 7200) * 1000
        : status === 'expired'
          ? 48 * 3_600_000
          : random.int(1, 30) * 1000 + random.int(0, 999);
  return { answer: null, end };
}

/** A rate around `base` units (+-20%) with 4 to 8 decimals. */
function priceWithDecimals(random: Prng, base: bigint): { units: bigint; decimals: number } {
  const decimals = random.int(4, 8);
  const units = roundUnits(mulDivRound(base, BigInt(random.int(80, 120)), 100n), decimals);
  return { units, decimals };
}

function messageBody(random: Prng): string {
  return random
    .pick(MESSAGE_TEMPLATES)
    .replace('{code}', random.digits(6))
    .replace('{name}', random.pick(NAMES))
    .replace(/\{n\}/g, () => random.digits(5))
    .replace('{amount}', `${random.int(0, 250)}.${random.digits(2)} EUR`);
}

function clientRef(random: Prng, direction: Direction, index: number): string | null {
  // The first records carry the formula-like references, so that even a tiny generated file has them.
  if (index < FORMULA_CLIENT_REFS.length) return FORMULA_CLIENT_REFS[index]!;
  if (random.chance(0.003)) return random.pick(FORMULA_CLIENT_REFS);
  if (!random.chance(direction === 'outbound' ? 0.4 : 0.05)) return null;
  return random.pick(CLIENT_REFS).replace('{n}', random.digits(6));
}

/** Fills the timestamps: mostly UTC with milliseconds, some with microseconds, some at the country's offset. */
function formatTimestamps(random: Prng, record: CdrRecord, start: number, offsets: Timestamps, offset: string): void {
  const style = random.next();
  const zone = style < 0.9 ? 'Z' : offset === '+00:00' ? 'Z' : offset;
  // Extra microsecond digits only on start_time: every later timestamp is at least a second after it.
  const micros = style >= 0.95 ? random.digits(3) : '';
  record.start_time = rfc3339(start, zone, micros);
  record.answer_time = offsets.answer === null ? null : rfc3339(start + offsets.answer, zone, '');
  record.end_time = offsets.end === null ? null : rfc3339(start + offsets.end, zone, '');
}

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
// Records come in time order, so consecutive timestamps nearly always share their date: format it once per day.
let cachedDay = NaN;
let cachedDate = '';

/** An instant as RFC 3339 at `zone` (`Z` or ±hh:mm) with milliseconds and optional extra microsecond digits. */
function rfc3339(epochMs: number, zone: string, micros: string): string {
  let local = epochMs;
  if (zone !== 'Z') {
    const sign = zone.charCodeAt(0) === 45 ? -1 : 1;
    local += sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const day = Math.floor(local / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  let rest = local - day * DAY_MS;
  const ms = rest % 1000;
  rest = (rest - ms) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const time = `${TWO_DIGITS[Math.floor(rest / 60)]}:${TWO_DIGITS[rest % 60]}:${TWO_DIGITS[seconds]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}`;
  return `${cachedDate}T${time}${micros}${zone}`;
}
