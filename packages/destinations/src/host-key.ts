import { createHash } from 'node:crypto';

/** A SHA-256 digest in unpadded base64 is 43 characters. */
const FINGERPRINT = /^[A-Za-z0-9+/]{43}$/;

/**
 * The base64 digest of a fingerprint as customers paste it: `SHA256:abc...` from `ssh-keygen -lf`, or the bare
 * digest, padded or not. A RangeError for anything else (an MD5 fingerprint, a whole public key).
 */
export function normalizeFingerprint(text: string): string {
  const digest = text.trim().replace(/^SHA256:/i, '').replace(/=+$/, '');
  if (!FINGERPRINT.test(digest)) {
    throw new RangeError(`host_key_sha256 must be a SHA-256 fingerprint as "ssh-keygen -lf" prints it (SHA256:<43 base64 characters>), got ${JSON.stringify(text)}`);
  }
  return digest;
}

/** OpenSSH's fingerprint of a raw (wire-format) public key: `SHA256:<base64 without padding>`. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
