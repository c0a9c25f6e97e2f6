import { setFlagsFromString } from 'node:v8';

// V8 settings for a process by the work it does; each is set before the isolates it concerns start.

/**
 * For a process about to back up folders (`cairn backup`, `cairn plan run`, a scheduled plan's child): V8's young
 * generation stays at its first size (1 MiB semi-spaces) instead of growing to its default maximum. A scan makes
 * many small objects that live for one folder; in large semi-spaces they pile up and are promoted in bursts, and
 * the peak memory follows (a first backup of 200,000 files in one folder: 545 → 440 MiB peak RSS, the time the
 * same within noise). Not for other commands: a restore's workers spend ~4 % more CPU with it. The growth factor
 * is read each time V8 would grow the space, so setting it after start-up works; the maximum
 * (`--max-semi-space-size`) is read only at start-up, which `node cairn.js` gives no say in. The app's backup
 * job threads get the same through `resourceLimits` (host/job-engine.ts).
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * For a process about to restore folders (`cairn restore`, `cairn remote restore`): the isolates started from
 * here on, the restore's workers, begin with a 64 MiB old generation instead of V8's small first one, whose limit
 * a worker reached every ~100 ms: each then marked its whole heap (on V8's own threads, 17 % of a restore's CPU).
 * A restore of the bench's incremental snapshot: 8–9 full collections a worker → 4, user time and wall −5 % (nine
 * alternating pairs), peak RSS +23 MB. Not for the app's host, whose backup job threads would start as large.
 */
export function startWorkersWithRoomToAllocate(): void {
  setFlagsFromString('--initial-old-space-size=64');
}
