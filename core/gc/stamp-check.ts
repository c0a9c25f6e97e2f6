import { closeSync, lstatSync, openSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from '../errors.js';

export interface StampCheck {
  /** Explicit timestamp updates stick on this filesystem: GC may trust chunk stamps down to `granularityMs`. */
  ok: boolean;
  /** How coarse the filesystem keeps mtimes (1 ms on ext4/APFS/NTFS as set from JS, 2000 on FAT). */
  granularityMs: number;
  /**
   * How far the filesystem's clock is behind this computer's (0 if not behind). A new file gets its stamp from
   * the filesystem (a NAS has a clock of its own), so GC keeps chunks this much longer.
   */
  clockLagMs: number;
  detail: string;
}

const PROBE = '.gc-stamp-probe';

/**
 * PBS checks that atime updates stick before it trusts them (spec 7.1); Cairn marks with mtime set
 * explicitly, and checks the same way: set a stamp in the past, read it back, set "now", read it back.
 * It also measures the filesystem's clock by the stamp a new file gets. `now` is this computer's clock.
 */
export function checkExplicitStamps(chunksDir: string, now: () => number = Date.now): StampCheck {
  const path = join(chunksDir, PROBE);
  try {
    try { unlinkSync(path); } catch { /* none left over */ }
    const createdAfter = now();
    closeSync(openSync(path, 'w'));
    const fsStamp = lstatSync(path).mtimeMs;
    // Stamps may be truncated to the filesystem's granularity (2 s on FAT): only a lag beyond that counts.
    const rawLag = createdAfter - fsStamp;
    const clockLagMs = rawLag > 2_000 ? Math.ceil(rawLag) : 0;
    const lag = clockLagMs > 0 ? `; the filesystem's clock is ${(clockLagMs / 1000).toFixed(1)} s behind this computer's` : '';
    const past = new Date(Math.floor(now() / 1000) * 1000 - 3_600_000 + 1_357);
    utimesSync(path, past, past);
    const back = lstatSync(path).mtimeMs;
    const granularityMs = Math.abs(back - past.getTime()) < 1 ? 1 : Math.abs(back - past.getTime()) <= 1_000 ? 1_000 : 2_000;
    if (Math.abs(back - past.getTime()) > 2_000) {
      return { ok: false, granularityMs, clockLagMs, detail: `a stamp set to ${past.toISOString()} read back as ${new Date(back).toISOString()}${lag}` };
    }
    const current = new Date(now());
    utimesSync(path, current, current);
    const fresh = lstatSync(path).mtimeMs;
    if (fresh < current.getTime() - granularityMs) {
      return { ok: false, granularityMs, clockLagMs, detail: `a stamp set to now read back as ${new Date(fresh).toISOString()}${lag}` };
    }
    return { ok: true, granularityMs, clockLagMs, detail: `explicit stamps stick (granularity ${granularityMs} ms)${lag}` };
  } catch (err) {
    throw ioError('test timestamp updates in', chunksDir, err);
  } finally {
    try { unlinkSync(path); } catch { /* not created */ }
  }
}
