import { createCipheriv, createDecipheriv } from 'node:crypto';
import { enableSingleDesForS3rver } from '../src/s3rver-des-compat';

// The key s3rver uses, an IV and a token as s3rver builds them; the ciphertext was made by real single DES
// (`node --openssl-legacy-provider`) on Node 20.20.2.
const KEY = Buffer.alloc(8, 'S3RVER', 'utf8');
const IV = Buffer.from('d4d5d6d7d8d9dadb', 'hex');
const TOKEN = 'us-east-1/bucket/some/key-name.csv.gz';
const DES_CIPHERTEXT = '96621ca40f7b8256ab1770ecc54ccf150e282a0c886ea3b10cebd2e4e0c6c214b21dd869f62e9cbf';

describe('enableSingleDesForS3rver', () => {
  beforeAll(() => {
    enableSingleDesForS3rver();
    enableSingleDesForS3rver();
  });

  it('encrypts exactly as single DES does', () => {
    const cipher = createCipheriv('des', KEY, IV);
    expect(Buffer.concat([cipher.update(TOKEN, 'utf8'), cipher.final()]).toString('hex')).toBe(DES_CIPHERTEXT);
  });

  it('decrypts tokens made by single DES', () => {
    const decipher = createDecipheriv('des', KEY, IV);
    const plain = Buffer.concat([decipher.update(Buffer.from(DES_CIPHERTEXT, 'hex')), decipher.final()]);
    expect(plain.toString('utf8')).toBe(TOKEN);
  });

  it('leaves other ciphers and other uses of DES as they were', () => {
    const key = Buffer.alloc(32, 7);
    const iv = Buffer.alloc(16, 1);
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    const encrypted = Buffer.concat([cipher.update('x'), cipher.final()]);
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    expect(Buffer.concat([decipher.update(encrypted), decipher.final()]).toString()).toBe('x');
    // Not s3rver's 8-byte key: still refused, as without the compatibility.
    expect(() => createCipheriv('des', Buffer.alloc(16), IV)).toThrow();
  });
});
