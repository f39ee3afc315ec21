import crypto, { type CipherKey, type BinaryLike } from 'node:crypto';

/*
 * Why this exists: s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with single DES
 * (`crypto.createCipheriv('des', ...)`). Node 20 bundles OpenSSL 3, which moved single DES into its
 * "legacy" provider, so on Node 20.20.2 every listing that needs a second page answers
 * 500 "error:0308010C:digital envelope routines::unsupported" unless Node was started with
 * `--openssl-legacy-provider` (checked on this machine: `node -e "crypto.createCipheriv('des', ...)"`
 * throws, the same line under `node --openssl-legacy-provider` works).
 *
 * Rather than making every process that may host the embedded server remember a flag (and load all of
 * OpenSSL's legacy algorithms to do it), single DES is expressed through two-key triple DES, which the
 * default provider still has: DES-EDE with K1 = K2 is E_K(D_K(E_K(x))) = E_K(x), byte for byte the same
 * cipher, so tokens stay compatible with an s3rver running under the flag. Only the exact name `des` with an
 * 8-byte key is translated, and only when this Node cannot do `des` itself: calls that work are untouched,
 * and nothing that failed before fails differently.
 */

const DES_ALIASES = new Set(['des', 'des-cbc']);

type CipherFactory = (algorithm: string, key: CipherKey, iv: BinaryLike | null, ...rest: unknown[]) => unknown;

let installed = false;

function nodeHasSingleDes(): boolean {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

function viaTripleDes(original: CipherFactory): CipherFactory {
  return (algorithm, key, iv, ...rest) => {
    if (DES_ALIASES.has(algorithm.toLowerCase()) && key instanceof Uint8Array && key.byteLength === 8) {
      return original('des-ede-cbc', Buffer.concat([key, key]), iv, ...rest);
    }
    return original(algorithm, key, iv, ...rest);
  };
}

/**
 * Makes `crypto.createCipheriv('des')` and `createDecipheriv('des')` work in this process, for s3rver's
 * list pagination. Idempotent; does nothing when Node already supports single DES.
 */
export function enableSingleDesForS3rver(): void {
  if (installed || nodeHasSingleDes()) return;
  // The real module object (a default import is the CommonJS module itself), which s3rver's require('crypto') also gets.
  const module = crypto as unknown as Record<'createCipheriv' | 'createDecipheriv', CipherFactory>;
  module.createCipheriv = viaTripleDes(module.createCipheriv.bind(crypto));
  module.createDecipheriv = viaTripleDes(module.createDecipheriv.bind(crypto));
  installed = true;
}
