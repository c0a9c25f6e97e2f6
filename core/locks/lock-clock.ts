import * as fs from 'node:fs';
import type { StoreClock } from '../fs/store-clock.js';

/** How long a lock whose holder cannot be asked (another computer) counts as held without a refresh. */
export const LOCK_STALE_MS = 10_000;
export const LOCK_UPDATE_MS = 2_000;

/**
 * What proper-lockfile is told as its own staleness limit: never. It would otherwise break any lock whose
 * refresh is 10 s old, also a live holder's on this computer that was stopped (Ctrl-Z, SIGSTOP) or whose
 * refresh timer starved; and it would judge by this process's clock. Cairn decides instead (process-lock.ts):
 * a holder on this computer by its pid, a holder elsewhere by its refresh stamp in the store's time.
 */
export const PROPER_LOCKFILE_NEVER_STALE = 2 ** 31 - 1;

/** A refresh stamp is only shifted when the clocks disagree by more than this (rounded to it, for FAT's 2 s stamps). */
const SHIFT_STEP_MS = 2_000;

type SyncFs = Pick<typeof fs, 'mkdirSync' | 'realpathSync' | 'statSync' | 'rmdirSync' | 'utimesSync'>;

/**
 * The file system proper-lockfile writes its refresh stamps through: the stamp it asks for (this process's
 * time) is moved into the store's time, so that other computers judge the refresh by one clock; reading it
 * back moves it by the same amount, so proper-lockfile still recognises its own stamp.
 */
export function storeTimeFs(clock: StoreClock): SyncFs {
  const shifts = new Map<string, number>();
  const shiftOf = (path: fs.PathLike): number => shifts.get(String(path)) ?? 0;
  return {
    mkdirSync: fs.mkdirSync,
    realpathSync: fs.realpathSync,
    rmdirSync: fs.rmdirSync,
    utimesSync(path: fs.PathLike, atime: fs.TimeLike, mtime: fs.TimeLike): void {
      const offset = clock.offsetMs();
      const shift = Math.abs(offset) > SHIFT_STEP_MS ? Math.round(offset / SHIFT_STEP_MS) * SHIFT_STEP_MS : 0;
      shifts.set(String(path), shift);
      fs.utimesSync(path, shifted(atime, shift), shifted(mtime, shift));
    },
    statSync: ((path: fs.PathLike, options?: fs.StatSyncOptions) => {
      const st = fs.statSync(path, options as fs.StatSyncOptions & { bigint?: false }) as fs.Stats | undefined;
      const shift = shiftOf(path);
      if (!st || shift === 0) return st;
      // proper-lockfile compares `mtime` with the Date it set; a copy with the mtime moved back.
      return Object.assign(Object.create(Object.getPrototypeOf(st) as object) as fs.Stats, st, {
        mtime: new Date(st.mtime.getTime() - shift),
        mtimeMs: st.mtimeMs - shift,
      });
    }) as typeof fs.statSync,
  };
}

function shifted(time: fs.TimeLike, shift: number): Date {
  const ms = time instanceof Date ? time.getTime() : typeof time === 'number' ? time * 1000 : Number(time) * 1000;
  return new Date(ms + shift);
}

/** Whether a lock directory's refresh stamp is recent by the store's clock (false if it is gone). */
export function lockIsFresh(lockDir: string, clock: StoreClock): boolean {
  const st = fs.statSync(lockDir, { throwIfNoEntry: false });
  return st !== undefined && clock.now() - st.mtimeMs <= LOCK_STALE_MS;
}
