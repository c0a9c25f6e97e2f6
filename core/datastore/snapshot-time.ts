import { formatBackupTime } from '../backup/backup-names.js';
import type { Logger } from '../log.js';

/** This computer's clock and the store's may differ by this much before a snapshot is named by the store's. */
export const CLOCK_AGREEMENT_MS = 5 * 60_000;
/** A group's newest snapshot may be dated this far ahead of now (a second computer's clock) and still be followed. */
export const NEWEST_AHEAD_SECONDS = 5 * 60;

/**
 * The time a new snapshot is named by (epoch seconds). It is this computer's clock while that agrees with the
 * store's within 5 minutes, else the store's (every writer of a shared store then names its snapshots by one
 * clock), with a warning. It comes after the group's newest snapshot, unless that one is dated more than 5
 * minutes ahead: a clock that was once far ahead must not drag every later snapshot into its future, where
 * keep-daily would see them all as one day. Then the new snapshot is named by the real time, with a warning.
 */
export function chooseSnapshotTime(newest: number | undefined, localMs: number, storeMs: number, log?: Logger): number {
  let nowMs = localMs;
  const skew = localMs - storeMs;
  if (Math.abs(skew) > CLOCK_AGREEMENT_MS) {
    log?.warn(
      `this computer's clock is ${describeSpan(Math.abs(skew))} ${skew > 0 ? 'ahead of' : 'behind'} the store's; ` +
        `the snapshot is named by the store's clock (${formatBackupTime(Math.floor(storeMs / 1000))}). Set the clock of whichever is wrong`,
    );
    nowMs = storeMs;
  }
  const now = Math.floor(nowMs / 1000);
  if (newest === undefined || newest < now) return now;
  if (newest - now <= NEWEST_AHEAD_SECONDS) return newest + 1;
  log?.warn(
    `the group's newest snapshot is dated ${formatBackupTime(newest)}, ${describeSpan((newest - now) * 1000)} in the future ` +
      `(a clock was ahead when it was taken); this snapshot is named by the real time, ${formatBackupTime(now)}`,
  );
  return now;
}

function describeSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} minutes`;
  if (s < 172_800) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86_400)} days`;
}
