import { isIP } from 'node:net';
import { request, type Dispatcher } from 'undici';
import type { AddressPolicy } from './address-policy';
import { signatureHeader } from './signature';

/** At most this much of a receiver's answer is read; the rest is discarded. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface WebhookMessage {
  url: string;
  /** webhook-id: one per event, the same on every attempt. */
  id: string;
  /** The JSON body, byte for byte as signed. */
  body: string;
  /** The account's secrets: one, or two during a rotation. */
  secrets: readonly string[];
  userAgent: string;
}

export interface DeliveryOutcome {
  /** A 2xx answer within the timeout. */
  delivered: boolean;
  statusCode?: number;
  durationMs: number;
  /** Why the attempt did not succeed, in words for the attempt log. */
  error?: string;
  /** 410 Gone: the receiver wants no more attempts for this event. */
  gone?: boolean;
  /** From Retry-After on a 429 or 503. */
  retryAfterMs?: number;
}

export interface DeliverOptions {
  dispatcher: Dispatcher;
  policy: AddressPolicy;
  /** The whole attempt, connect to last byte read. Default 15 s. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * One signed POST of a webhook message. Redirects are not followed (a 3xx is a failure: the signature is
 * for this URL), at most 64 KiB of the answer is read, and the attempt never throws: every outcome is data.
 */
export async function deliverWebhook(message: WebhookMessage, options: DeliverOptions): Promise<DeliveryOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  const elapsed = () => now() - started;
  const host = new URL(message.url).hostname.replace(/^\[|\]$/g, '');
  // The guarded agent checks resolved names at connect time; IP literals never reach its lookup.
  if (isIP(host)) {
    const refusal = options.policy.refusal(host);
    if (refusal) return { delivered: false, durationMs: elapsed(), error: `refused: ${refusal}` };
  }
  const timestamp = Math.floor(now() / 1000);
  const timeoutMs = options.timeoutMs ?? 15_000;
  try {
    const response = await request(message.url, {
      method: 'POST',
      dispatcher: options.dispatcher,
      body: message.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': message.userAgent,
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(message.id, timestamp, message.body, message.secrets),
      },
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    let read = 0;
    for await (const chunk of response.body) {
      read += (chunk as Buffer).length;
      if (read >= MAX_RESPONSE_BYTES) break;
    }
    response.body.destroy();
    const statusCode = response.statusCode;
    const outcome: DeliveryOutcome = { delivered: statusCode >= 200 && statusCode < 300, statusCode, durationMs: elapsed() };
    if (outcome.delivered) return outcome;
    if (statusCode >= 300 && statusCode < 400) outcome.error = `redirect (${statusCode}) not followed`;
    else outcome.error = `receiver answered ${statusCode}`;
    if (statusCode === 410) outcome.gone = true;
    if (statusCode === 429 || statusCode === 503) {
      const retryAfter = retryAfterMs(response.headers['retry-after'], now());
      if (retryAfter !== undefined) outcome.retryAfterMs = retryAfter;
    }
    return outcome;
  } catch (error) {
    const name = (error as Error).name;
    const text =
      name === 'TimeoutError' || name === 'AbortError' || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT'
        ? `no answer within ${timeoutMs} ms`
        : (error as Error).message;
    return { delivered: false, durationMs: elapsed(), error: text };
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
