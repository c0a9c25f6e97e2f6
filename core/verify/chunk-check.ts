import { checkBlob, decodeBlob, isEncryptedKind } from '../blob/data-blob.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { ChunkStore } from '../chunk-store/chunk-store.js';
import { isCairnError } from '../errors.js';

/** A sound chunk and its decoded length (0 when it is encrypted and there is no key to decode it), or what is wrong. */
export type ChunkVerdict = { ok: true; length: number } | { ok: false; message: string; missing?: boolean };

/**
 * Judges a chunk by evidence about the chunk alone: its file (a regular file, present), its blob (magic, CRC),
 * its content (decodes, hashes to its name). What an index says about it (its length) is not evidence: a
 * damaged index must never get a healthy chunk moved aside. A chunk that fails its own checks is moved aside as
 * `.bad` (spec 9.2); one of the wrong crypt mode is an error but is not moved for that alone.
 */
export function checkChunk(chunks: ChunkStore, hex: string, encrypted: boolean, crypt?: CryptConfig): ChunkVerdict {
  let raw: Buffer;
  try {
    raw = chunks.readRaw(hex);
  } catch (err) {
    if (isCairnError(err, 'NOT_FOUND')) return { ok: false, message: `chunk ${hex} is missing`, missing: true };
    return { ok: false, message: (err as Error).message };
  }
  try {
    // Load (magic, CRC), then the crypt mode: sign-only archives have plain chunks. Without the key an
    // encrypted chunk is checked by its CRC only; with it, decrypted (the GCM tag) and hashed like a plain one.
    const { kind } = checkBlob(raw, `chunk ${hex}`);
    if (isEncryptedKind(kind) !== encrypted) {
      return {
        ok: false,
        message: `chunk ${hex} is ${encrypted ? 'not encrypted, but its archive is' : 'encrypted, but its archive is not'}`,
      };
    }
    if (encrypted && !crypt) return { ok: true, length: 0 };
    const plain = decodeBlob(raw, { digest: Buffer.from(hex, 'hex'), crypt, what: `chunk ${hex}` });
    return { ok: true, length: plain.length };
  } catch (err) {
    const moved = chunks.renameCorrupt(hex);
    return {
      ok: false,
      message: `${(err as Error).message}${moved ? `; moved aside to ${moved.split('/').at(-1)}` : ''}`,
    };
  }
}
