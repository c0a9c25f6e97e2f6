import { CairnError } from '../errors.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Valid average chunk sizes (and fixed chunk sizes): powers of two from 64 KiB to 4 MiB, as PBS allows. */
export const MIN_CHUNK_SIZE = 64 * KiB;
export const MAX_CHUNK_SIZE = 4 * MiB;
export const DEFAULT_CHUNK_SIZE = 4 * MiB;

/** The buzhash window: the hash depends only on the last WINDOW_SIZE bytes. */
export const WINDOW_SIZE = 64;

export interface ChunkerParams {
  readonly avg: number;
  readonly min: number;
  readonly max: number;
  readonly mask: number;
  readonly threshold: number;
}

export function isValidChunkSize(size: number): boolean {
  return Number.isInteger(size) && size >= MIN_CHUNK_SIZE && size <= MAX_CHUNK_SIZE && (size & (size - 1)) === 0;
}

export function assertValidChunkSize(size: number): void {
  if (!isValidChunkSize(size)) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `invalid chunk size ${size}: must be a power of two from ${MIN_CHUNK_SIZE / KiB} KiB to ${MAX_CHUNK_SIZE / MiB} MiB`,
    );
  }
}

/** PBS's parameters: min = avg/4, max = 4·avg, cut when (h & (2·avg−1)) >= 2·avg−3. */
export function chunkerParams(avg: number = DEFAULT_CHUNK_SIZE): ChunkerParams {
  assertValidChunkSize(avg);
  const mask = 2 * avg - 1;
  return { avg, min: avg / 4, max: avg * 4, mask, threshold: mask - 2 };
}
