import { errnoCode, errorWords } from '../errors.js';
import type { Logger } from '../log.js';

/** An entry of the source that the snapshot does not hold, and why. */
export interface LeftOutEntry {
  path: string;
  reason: string;
}

/** How many left-out entries a backup names in its result; the log names every one. */
export const LEFT_OUT_NAMED = 100;

/**
 * The entries a backup had to leave out although they are there: unreadable files and folders, names that cannot
 * be stored. A backup that left some out is not a clean one (the CLI exits 3, a plan reads "incomplete"): the data
 * is still on the disk only. Entries that vanished or changed kind during the backup, and sockets, FIFOs and
 * devices, are only logged: they leave no data out, and counting them would cry wolf every night.
 */
export class LeftOut {
  count = 0;
  readonly named: LeftOutEntry[] = [];

  constructor(private readonly log: Logger) {}

  /** Logs "skipped <path>: <reason>" and counts the entry. */
  add(path: string, reason: string): void {
    this.log.warn(`skipped ${path}: ${reason}`);
    this.count++;
    if (this.named.length < LEFT_OUT_NAMED) this.named.push({ path, reason });
  }

  /** A failed read of `path`: counted unless the entry vanished meanwhile (then only logged). */
  failedRead(path: string, err: unknown): void {
    if (vanished(err)) this.log.warn(`skipped ${path}: it vanished during the backup`);
    else this.add(path, errorWords(err));
  }
}

/** The entry, or the folder it was in, is gone: the source changed under the backup, nothing is left out. */
function vanished(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
