import { closeSync, lstatSync, openSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from '../errors.js';

export interface StampCheck {
  /** Explicit timestamp updates stick on this filesystem: GC may trust chunk stamps down to `granularityMs`. */
  ok: boolean;
  /** How coarse the filesystem keeps mtimes (1 ms on ext4/APFS/NTFS as set from JS, 2000 on FAT). */
  granularityMs: number;
  detail: string;
  /** Creating a file moves its folder's mtime here (what lets the sweep skip folders that stayed empty). */
  folderTimesMove: boolean;
}

const PROBE = '.gc-stamp-probe';

/**
 * PBS checks that atime updates stick before it trusts them (spec 7.1); Cairn marks with mtime set
 * explicitly, and checks the same way: set a stamp in the past, read it back, set "now", read it back.
 * `now` is the store's clock (store-clock.ts).
 */
export function checkExplicitStamps(chunksDir: string, now: () => number): StampCheck {
  const path = join(chunksDir, PROBE);
  try {
    try {
      unlinkSync(path);
    } catch {
      /* none left over */
    }
    const folderTimesMove = createMovesFolderTime(chunksDir, path, now);
    const past = new Date(Math.floor(now() / 1000) * 1000 - 3_600_000 + 1_357);
    utimesSync(path, past, past);
    const back = lstatSync(path).mtimeMs;
    const error = Math.abs(back - past.getTime());
    const granularityMs = error < 1 ? 1 : error <= 1_000 ? 1_000 : 2_000;
    if (error > 2_000) {
      return {
        ok: false,
        granularityMs,
        folderTimesMove,
        detail: `a stamp set to ${past.toISOString()} read back as ${new Date(back).toISOString()}`,
      };
    }
    const current = new Date(now());
    utimesSync(path, current, current);
    const fresh = lstatSync(path).mtimeMs;
    if (fresh < current.getTime() - granularityMs) {
      return {
        ok: false,
        granularityMs,
        folderTimesMove,
        detail: `a stamp set to now read back as ${new Date(fresh).toISOString()}`,
      };
    }
    return {
      ok: true,
      granularityMs,
      folderTimesMove,
      detail: `explicit stamps stick (granularity ${granularityMs} ms)`,
    };
  } catch (err) {
    throw ioError('test timestamp updates in', chunksDir, err);
  } finally {
    try {
      unlinkSync(path);
    } catch {
      /* not created */
    }
  }
}

/**
 * Creates the probe file after setting its folder's mtime an hour back, and says whether the creation moved
 * it forward again, as POSIX asks. A folder whose times cannot be set (another owner) counts as not moving.
 */
function createMovesFolderTime(dir: string, probe: string, now: () => number): boolean {
  const past = new Date(now() - 3_600_000);
  let set = true;
  try {
    utimesSync(dir, past, past);
  } catch {
    set = false;
  }
  closeSync(openSync(probe, 'wx'));
  return set && lstatSync(dir).mtimeMs > past.getTime() + 1_800_000;
}
