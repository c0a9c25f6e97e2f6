import type { Stats } from 'node:fs';
import type { SnapshotInfo } from './datastore.js';

/** A snapshot folder changed this recently may change again within its stamp's tick unseen: not remembered. */
const SETTLE_MS = 1000;
const MAX_ENTRIES = 1_000_000;

/**
 * What a long-lived reader (the app's query thread) remembers of a group's snapshot folders, so that listing a
 * group of 100,000 snapshots again costs one lstat per snapshot instead of a listing of its folder. A snapshot
 * folder gains or loses a file only by create, rename or delete, which move its mtime and ctime (Cairn and PBS
 * replace manifests by rename), so an entry stands while both times are those it was made with. A folder
 * changed within the last second is not remembered: a second change in the same tick of the filesystem's
 * clock would keep its times. The SnapshotInfo handed out is the same object while the folder is unchanged,
 * so what callers derive from it (a row of the snapshots table) can be kept by it too.
 */
export class SnapshotListCache {
  private readonly entries = new Map<string, { mtimeMs: number; ctimeMs: number; info: SnapshotInfo }>();

  /** The remembered info of the snapshot folder at `dir`, whose lstat is `st`, if the folder is unchanged. */
  get(dir: string, st: Stats): SnapshotInfo | undefined {
    const entry = this.entries.get(dir);
    if (!entry) return undefined;
    if (entry.mtimeMs === st.mtimeMs && entry.ctimeMs === st.ctimeMs) return entry.info;
    this.entries.delete(dir);
    return undefined;
  }

  /** Remembers `info` for `dir` (lstat `st`, taken before it was listed) if the folder has settled. */
  set(dir: string, st: Stats, info: SnapshotInfo, nowMs = Date.now()): void {
    if (Math.max(st.mtimeMs, st.ctimeMs) > nowMs - SETTLE_MS) return;
    // Folders forgotten since stay behind: bounded by starting over now and then.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(dir, { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, info });
  }

  /** Forgets the folders of groups no longer listed (a removed group, a closed store). */
  clear(): void {
    this.entries.clear();
  }
}
