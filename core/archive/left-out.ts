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

  /** Logs "skipped <path>: <reason>" ("skipped folder <path>: …" for a folder) and counts the entry. */
  add(path: string, reason: string, folder = false): void {
    this.log.warn(`skipped ${folder ? 'folder ' : ''}${path}: ${reason}`);
    this.count++;
    // A folder is named with a slash at the end, as a path to it.
    if (this.named.length < LEFT_OUT_NAMED) this.named.push({ path: folder ? `${path}/` : path, reason });
  }

  /** A failed read of `path`: counted unless the entry vanished or changed kind meanwhile (then only logged). */
  failedRead(path: string, err: unknown, folder = false): void {
    const what = `skipped ${folder ? 'folder ' : ''}${path}`;
    const code = errnoCode(err);
    if (code && VANISHED.has(code)) this.log.warn(`${what}: it vanished during the backup`);
    else if (code && CHANGED_KIND.has(code)) this.log.warn(`${what}: it changed kind during the backup`);
    else this.add(path, errorWords(err), folder);
  }
}

/** The entry, or the folder it was in, is gone: the source changed under the backup, nothing is left out. */
const VANISHED = new Set(['ENOENT', 'ENOTDIR']);

/**
 * The entry became another kind since the scan: a file now a symlink (ELOOP, opened without following it), a
 * symlink now a file (EINVAL from readlink), a file now a socket (ENXIO). Its next backup takes it as it is.
 */
const CHANGED_KIND = new Set(['ELOOP', 'EINVAL', 'ENXIO']);
