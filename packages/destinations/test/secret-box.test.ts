import { randomBytes } from 'node:crypto';
import { SecretBox } from '../src';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('SecretBox', () => {
  it('opens what it sealed, and seals the same text differently every time', () => {
    const box = new SecretBox([k1]);
    const first = box.seal('s3cr3t é');
    const second = box.seal('s3cr3t é');
    expect(first).not.toBe(second);
    expect(first).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(first).not.toContain('s3cr3t');
    expect(box.open(first)).toBe('s3cr3t é');
    expect(box.open(box.seal(''))).toBe('');
  });

  it('opens a secret sealed with an older key once a new key is put first, and seals with the new one', () => {
    const sealedWithK1 = new SecretBox([k1]).seal('password');
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(sealedWithK1)).toBe('password');
    expect(rotated.needsResealing(sealedWithK1)).toBe(true);
    const resealed = rotated.seal('password');
    expect(resealed.split('.')[1]).toBe('k2');
    expect(rotated.needsResealing(resealed)).toBe(false);
    expect(new SecretBox([k2]).open(resealed)).toBe('password');
  });

  it('names the key when it is not in the ring', () => {
    const sealed = new SecretBox([k1]).seal('password');
    expect(() => new SecretBox([k2]).open(sealed)).toThrow(/sealed with key k1, which is not in the key ring \(k2\)/);
  });

  it('detects tampering with the ciphertext, the tag, the iv and the key id', () => {
    const box = new SecretBox([k1, { id: 'k9', key: k1.key }]);
    const sealed = box.seal('account password');
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string, string];
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    const tampered = [
      [version, keyId, iv, tag, flip(ciphertext)],
      [version, keyId, iv, flip(tag), ciphertext],
      [version, keyId, flip(iv), tag, ciphertext],
      [version, keyId, iv, tag.slice(0, 8), ciphertext], // a truncated tag is easier to forge
      // Same key material under another id: the id is authenticated too.
      [version, 'k9', iv, tag, ciphertext],
    ];
    for (const parts of tampered) expect(() => box.open(parts.join('.'))).toThrow(/failed authentication/);
  });

  it('refuses texts that are not sealed secrets', () => {
    const box = new SecretBox([k1]);
    expect(() => box.open('plain password')).toThrow(/not a sealed secret/);
    expect(() => box.open('v2.k1.a.b.c')).toThrow(/not a sealed secret/);
  });

  it('refuses bad key rings', () => {
    expect(() => new SecretBox([])).toThrow(/at least one key/);
    expect(() => new SecretBox([{ id: 'short', key: randomBytes(16) }])).toThrow(/short must be 32 bytes, got 16/);
    expect(() => new SecretBox([k1, k1])).toThrow(/k1 appears twice/);
    expect(() => new SecretBox([{ id: 'a.b', key: randomBytes(32) }])).toThrow(/id "a.b"/);
  });

  describe('parseKeys', () => {
    it('reads "<id>:<base64>" entries, sealing key first', () => {
      const text = ` k2:${k2.key.toString('base64')}, k1:${k1.key.toString('base64')} `;
      expect(SecretBox.parseKeys(text)).toEqual([k2, k1]);
      const box = new SecretBox(SecretBox.parseKeys(text));
      expect(box.seal('x').split('.')[1]).toBe('k2');
    });

    it('explains what is wrong without printing key material', () => {
      const short = randomBytes(31).toString('base64');
      expect(() => SecretBox.parseKeys('')).toThrow(/no secret keys given/);
      expect(() => SecretBox.parseKeys(randomBytes(32).toString('base64'))).toThrow(/secret key #1 is not "<id>:<base64 of 32 bytes>"/);
      expect(() => SecretBox.parseKeys(`k1:${short}`)).toThrow(/k1 must decode to 32 bytes, got 31/);
      expect(() => SecretBox.parseKeys('k1:not base64!')).toThrow(/k1 is not base64/);
      try {
        SecretBox.parseKeys(`k1:${short}`);
      } catch (error) {
        expect((error as Error).message).not.toContain(short);
      }
    });
  });
});
