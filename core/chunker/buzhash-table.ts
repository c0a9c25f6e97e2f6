import { createHash } from 'node:crypto';

/**
 * Cairn's own buzhash table: 256 u32 values derived from SHA-256 of a fixed label, so it is reproducible
 * anywhere without copying casync's or PBS's table. Changing it changes every chunk boundary (and with it
 * deduplication against existing stores), which is why a test pins its digest.
 */
export const BUZHASH_TABLE_LABEL = 'cairn buzhash table v1';

let cached: Uint32Array | undefined;

export function buzhashTable(): Uint32Array {
  if (!cached) {
    const table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      table[i] = createHash('sha256').update(`${BUZHASH_TABLE_LABEL} ${i}`).digest().readUInt32LE(0);
    }
    cached = table;
  }
  return cached;
}
