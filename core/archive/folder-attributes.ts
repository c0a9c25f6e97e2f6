import { fchmodSync, fchownSync, futimesSync } from 'node:fs';
import type { HeldDirectories } from '../fs/held-directories.js';
import type { Logger } from '../log.js';
import type { DirectoryEntry } from './archive-format.js';
import { isRoot, nsToTime } from './file-writer.js';

/**
 * The owner, mode and times of the folders a restore made, each set once nothing more is written into it: every
 * entry made in a folder changes its mtime, and a read-only one would refuse them. A folder is done when its
 * planned entries are (subfolders and symlinks are made while planning, files and hardlinks are counted out as
 * they are written), so the job's thread, idle while the workers write, sets most folders before the last file;
 * `finish` sets the rest, children before their parents as before.
 *
 * Early only if its owner may read and search it: the folders below one are opened through it until they are done
 * too (root is no exception: on an NFS mount that squashes root, or without CAP_DAC_OVERRIDE, modes bind it).
 */
export class FolderAttributes {
  /** The planned folders not set yet, by HeldDirectories number, children before their parents. */
  private readonly unset = new Map<number, DirectoryEntry>();
  /** Entries still to be written into a folder, by its number. */
  private readonly pending = new Map<number, number>();
  private planningDone = false;

  constructor(
    private readonly dirs: HeldDirectories,
    private readonly log: Logger,
  ) {}

  /** A folder whose entries are all planned. */
  addFolder(dir: number, entry: DirectoryEntry): void {
    this.unset.set(dir, entry);
  }

  /** One more entry to be written into folder `dir` after planning (a file, a hardlink). */
  expect(dir: number): void {
    this.pending.set(dir, (this.pending.get(dir) ?? 0) + 1);
  }

  /** An expected entry of folder `dir` is written, kept or given up. */
  done(dir: number): void {
    const left = (this.pending.get(dir) ?? 0) - 1;
    if (left > 0) {
      this.pending.set(dir, left);
      return;
    }
    this.pending.delete(dir);
    if (this.planningDone) this.setEarly(dir);
  }

  /** Planning is over: no folder gets another subfolder or symlink. Those with nothing left to write are set. */
  planDone(): void {
    this.planningDone = true;
    for (const dir of [...this.unset.keys()]) if (!this.pending.has(dir)) this.setEarly(dir);
  }

  /** Everything is written: the folders not set yet, in planning order. */
  finish(): void {
    for (const [dir, entry] of this.unset) this.set(dir, entry);
    this.unset.clear();
  }

  private setEarly(dir: number): void {
    const entry = this.unset.get(dir);
    if (!entry || (entry.mode & 0o500) !== 0o500) return;
    this.set(dir, entry);
    this.unset.delete(dir);
  }

  private set(dir: number, entry: DirectoryEntry): void {
    try {
      const fd = this.dirs.fd(dir);
      if (isRoot) fchownSync(fd, entry.uid, entry.gid); // before the mode: a chown may clear setgid
      fchmodSync(fd, entry.mode);
      futimesSync(fd, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
    } catch (err) {
      this.log.warn(`cannot set the attributes of ${this.dirs.shown(dir)}: ${(err as Error).message}`);
    }
  }
}
