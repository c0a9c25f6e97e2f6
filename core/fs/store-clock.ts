import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/** How often the store's clock is read again: extrapolating with the monotonic clock drifts by microseconds a minute. */
const REMEASURE_MS = 30_000;
/** The probe files' prefix, in the store's root: GC removes one a killed process left. */
export const CLOCK_PROBE_PREFIX = '.cairn-clock-';

/**
 * The store's clock: the time its filesystem gives a file it creates. Every stamp GC compares (chunk stamps,
 * lock refreshes, when a writer registered, GC's own start) is taken from this one clock, never from the
 * process's: two computers sharing a store, or a VM whose clock drifts, may disagree by seconds or hours,
 * while the filesystem (the local kernel, or the NAS) stamps every file it creates with its own time.
 *
 * It is read by creating an empty file in the store's root and looking at its mtime, then extrapolated with
 * the monotonic clock, which wall-clock steps do not move. The estimate is never behind the filesystem's
 * clock by more than the filesystem's own stamp granularity: the monotonic reading is taken before the file is
 * created.
 */
export class StoreClock {
  private anchorStoreMs = 0;
  private anchorMonoMs = Number.NEGATIVE_INFINITY;
  private failed = false;

  constructor(private readonly dir: string) {}

  /** Now, in the store's time (milliseconds since the epoch). */
  now(): number {
    const mono = performance.now();
    if (mono - this.anchorMonoMs > REMEASURE_MS) this.measure();
    return this.failed ? Date.now() : this.anchorStoreMs + (performance.now() - this.anchorMonoMs);
  }

  /** How far the store's clock is ahead of this process's (negative: behind). */
  offsetMs(): number {
    return this.now() - Date.now();
  }

  /** Reads the store's clock now (also done by now() every 30 s). */
  measure(): void {
    const path = join(this.dir, `${CLOCK_PROBE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    const mono = performance.now();
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o600);
      this.anchorStoreMs = fstatSync(fd).mtimeMs;
      this.anchorMonoMs = mono;
      this.failed = false;
    } catch {
      // A store we cannot write to: nothing is stamped there, and the process's clock will do for reading.
      this.failed = true;
      this.anchorMonoMs = mono;
    } finally {
      if (fd !== undefined) {
        closeSync(fd);
        try {
          unlinkSync(path);
        } catch {
          /* removed already */
        }
      }
    }
  }
}

const clocks = new Map<string, StoreClock>();

/** The clock of the store at `root` (one per root and thread; `root` is the store's absolute path). */
export function storeClock(root: string): StoreClock {
  let clock = clocks.get(root);
  if (!clock) {
    clock = new StoreClock(root);
    clocks.set(root, clock);
  }
  return clock;
}
