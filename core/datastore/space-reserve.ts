import { randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CairnError, errnoCode } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import type { Logger } from '../log.js';

/**
 * Space kept in reserve in every store, so that what frees space works on a full disk: forget, prune, delete
 * group and GC must write small lock records (and on most filesystems a lock folder needs a block) before they
 * can delete anything. They release the reserve when the disk is full, and GC makes it again once there is room.
 */
export const RESERVE_FILE = '.cairn-reserve';
export const RESERVE_BYTES = 1024 * 1024;

/** Makes the reserve if it is missing and there is room (random bytes: a compressing filesystem keeps them whole). */
export function makeReserve(root: string): boolean {
  const path = join(root, RESERVE_FILE);
  if (existsSync(path)) return false;
  try {
    writeFileAtomicSync(path, randomBytes(RESERVE_BYTES), { mode: 0o600 });
    return true;
  } catch {
    return false; // no room yet; the next GC tries again
  }
}

/** Whether an error is, or was caused by, a full disk (or quota). */
export function isNoSpace(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const code = errnoCode(e);
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/**
 * Runs `take` (taking the locks of an operation that frees space); if the disk is full, releases the reserve
 * and runs it once more. Without a reserve left, says what to do.
 */
export function withReserve<T>(root: string, log: Logger | undefined, take: () => T): T {
  try {
    return take();
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    const path = join(root, RESERVE_FILE);
    try {
      unlinkSync(path);
    } catch {
      throw new CairnError(
        'IO',
        `the disk of ${root} is full, and Cairn's reserve there is used up: ` +
          'free a few megabytes on that disk (any file), then run this again',
        { cause: err },
      );
    }
    log?.warn(
      `the disk of ${root} is full: Cairn used the 1 MiB it keeps in reserve there to take its locks; GC makes it again once there is room`,
    );
    return take();
  }
}
