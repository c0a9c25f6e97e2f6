import { createCipheriv, createHash } from 'node:crypto';

/** Deterministic incompressible bytes (AES-CTR keystream), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 'cairn'): Buffer {
  const key = createHash('sha256').update(`key/${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

/** Deterministic, compressible text-like bytes. */
export function textBytes(length: number, seed = 1): Buffer {
  const words = ['chunk', 'store', 'backup', 'index', 'snapshot', 'manifest', 'digest', 'group', 'prune', 'verify'];
  let x = seed >>> 0 || 1;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = `${words[x % words.length]}${x % 7 === 0 ? '\n' : ' '}`;
    parts.push(w);
    size += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}
