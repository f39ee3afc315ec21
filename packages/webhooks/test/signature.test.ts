import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { secretKey, signatureHeader } from '@cdr-reports/webhooks';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The headers a receiver would get, checked by the published standardwebhooks package, not by our code. */
function headers(id: string, timestamp: number, body: string, secrets: string[]) {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(id, timestamp, body, secrets) };
}

describe('signatureHeader', () => {
  const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const body = JSON.stringify({ type: 'report.completed', timestamp: '2026-03-10T09:00:00.000Z', data: { request_id: 'r', note: 'é ✓ "quoted"' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('is one v1 signature that standardwebhooks verifies with the secret, and with no other', () => {
    const secret = newSecret();
    const signed = headers(id, now(), body, [secret]);
    expect(signed['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, signed)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, signed)).toThrow(WebhookVerificationError);
  });

  it('covers the id, the timestamp and every byte of the body', () => {
    const secret = newSecret();
    const timestamp = now();
    const signed = headers(id, timestamp, body, [secret]);
    const webhook = new Webhook(secret);
    expect(() => webhook.verify(`${body} `, signed)).toThrow(WebhookVerificationError);
    expect(() => webhook.verify(body, { ...signed, 'webhook-id': `${id}x` })).toThrow(WebhookVerificationError);
    expect(() => webhook.verify(body, { ...signed, 'webhook-timestamp': String(timestamp - 1) })).toThrow(WebhookVerificationError);
  });

  it('during a rotation carries two space-separated signatures; each secret verifies', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const signed = headers(id, now(), body, [current, previous]);
    expect(signed['webhook-signature'].split(' ')).toEqual([expect.stringMatching(/^v1,/), expect.stringMatching(/^v1,/)]);
    expect(new Webhook(current).verify(body, signed)).toEqual(JSON.parse(body));
    expect(new Webhook(previous).verify(body, signed)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, signed)).toThrow(WebhookVerificationError);
  });

  it('keys the HMAC with the base64-decoded secret, not its text', () => {
    const secret = newSecret();
    expect(secretKey(secret)).toEqual(Buffer.from(secret.slice('whsec_'.length), 'base64'));
    expect(secretKey(secret)).toHaveLength(32);
    expect(() => secretKey('not-a-secret')).toThrow(/whsec_/);
  });

  it('signs as standardwebhooks does, byte for byte', () => {
    const secret = newSecret();
    const at = new Date(1_773_133_200_000);
    expect(signatureHeader(id, at.getTime() / 1000, body, [secret])).toBe(new Webhook(secret).sign(id, at, body));
  });
});
