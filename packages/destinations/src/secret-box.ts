import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretKey {
  /** Names the key inside every sealed text, so a ring can hold old keys while secrets are re-sealed. */
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
/** GCM's recommended nonce length; random per seal (2^32 seals per key stay far below the collision bound). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Encrypts destination credentials at rest with AES-256-GCM. The first key of the ring seals; every key opens,
 * so a key is rotated by putting the new one first, re-sealing, and only then dropping the old one. A sealed text
 * names its key: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url), and the key id and version are authenticated
 * as additional data, so a sealed text cannot be passed off as one of another key.
 */
export class SecretBox {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly sealingKeyId: string;

  constructor(keys: ReadonlyArray<SecretKey>) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    const ring = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new Error(`secret key id ${JSON.stringify(id)} must be 1 to 32 letters, digits, '_' or '-'`);
      if (key.length !== 32) throw new Error(`secret key ${id} must be 32 bytes, got ${key.length}`);
      if (ring.has(id)) throw new Error(`secret key id ${id} appears twice`);
      ring.set(id, Buffer.from(key));
    }
    this.keys = ring;
    this.sealingKeyId = keys[0]!.id;
  }

  /**
   * Reads a key ring from a configuration value: `k2:<base64 of 32 bytes>,k1:<base64>`, sealing key first.
   * Errors name the entry, never the key material.
   */
  static parseKeys(text: string): SecretKey[] {
    const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    if (entries.length === 0) throw new Error('no secret keys given: expected "<id>:<base64 of 32 bytes>[,<id>:<base64>...]"');
    return entries.map((entry, index) => {
      const colon = entry.indexOf(':');
      if (colon <= 0) throw new Error(`secret key #${index + 1} is not "<id>:<base64 of 32 bytes>"`);
      const id = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!KEY_ID.test(id)) throw new Error(`secret key #${index + 1}: id ${JSON.stringify(id)} must be 1 to 32 letters, digits, '_' or '-'`);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new Error(`secret key ${id} is not base64`);
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== 32) throw new Error(`secret key ${id} must decode to 32 bytes, got ${key.length} (generate one with: openssl rand -base64 32)`);
      return { id, key };
    });
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(this.sealingKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(this.sealingKeyId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.sealingKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new Error(`not a sealed secret (expected ${VERSION}.<keyId>.<iv>.<tag>.<ciphertext>)`);
    const [, keyId, iv, tag, ciphertext] = parts as [string, string, string, string, string];
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`the secret was sealed with key ${keyId}, which is not in the key ring (${[...this.keys.keys()].join(', ')})`);
    try {
      // The tag length is fixed: GCM would otherwise accept a truncated tag, which is easier to forge.
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(keyId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new Error(`the secret sealed with key ${keyId} failed authentication: it was altered, or the key ${keyId} is not the one it was sealed with`, { cause: error });
    }
  }

  /** Whether `sealed` was sealed with another key than the current sealing key (and should be re-sealed). */
  needsResealing(sealed: string): boolean {
    return sealed.split('.')[1] !== this.sealingKeyId;
  }
}

function additionalData(keyId: string): Buffer {
  return Buffer.from(`${VERSION}.${keyId}`, 'utf8');
}
