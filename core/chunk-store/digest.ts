import { createHash } from 'node:crypto';
import { CairnError } from '../errors.js';

export const DIGEST_SIZE = 32;
const HEX_DIGEST = /^[0-9a-f]{64}$/;

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function isHexDigest(s: string): boolean {
  return HEX_DIGEST.test(s);
}

/** A digest as 64 lowercase hex characters, from bytes or from hex (validated). */
export function digestHex(digest: Uint8Array | string): string {
  if (typeof digest === 'string') {
    if (!isHexDigest(digest))
      throw new CairnError('INVALID_ARGUMENT', `not a SHA-256 digest: ${JSON.stringify(digest)}`);
    return digest;
  }
  if (digest.length !== DIGEST_SIZE)
    throw new CairnError('INVALID_ARGUMENT', `digest must be 32 bytes, got ${digest.length}`);
  return Buffer.from(digest.buffer, digest.byteOffset, digest.length).toString('hex');
}
