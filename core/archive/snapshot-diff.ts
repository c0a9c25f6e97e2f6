import type { SnapshotRef } from '../backup/backup-names.js';
import type { SnapshotKeys } from '../datastore/snapshot-key.js';
import type { Datastore } from '../datastore/datastore.js';
import { EntryKind, kindName, type ArchiveEntry, type DirectoryEntry, type EntryKindName } from './archive-format.js';
import { FolderArchiveReader } from './folder-reader.js';
import { displayName } from './names.js';

export interface DiffEntry {
  /** '/'-separated, names as `displayName` shows them (a path `ls`, `cat` and restore accept). */
  path: string;
  change: 'added' | 'removed' | 'changed';
  kind: EntryKindName;
  /** Content bytes before and after (for folders, the total below them). */
  sizeBefore?: number;
  sizeAfter?: number;
  /** For changed entries: what differs. */
  what?: ('content' | 'kind' | 'mode' | 'mtime' | 'target' | 'owner')[];
}

export interface SnapshotDiff {
  from: string;
  to: string;
  entries: DiffEntry[];
  added: number;
  removed: number;
  changed: number;
  /** Content bytes added and removed (what made the snapshot grow or shrink). */
  bytesAdded: number;
  bytesRemoved: number;
}

function contentSize(reader: FolderArchiveReader, e: ArchiveEntry): number {
  if (e.kind === EntryKind.File || e.kind === EntryKind.Hardlink) return e.size;
  if (e.kind !== EntryKind.Directory) return 0;
  let total = 0;
  for (const child of reader.readDirectory(e)) total += contentSize(reader, child);
  return total;
}

function differences(a: ArchiveEntry, b: ArchiveEntry): DiffEntry['what'] {
  const what: NonNullable<DiffEntry['what']> = [];
  if (a.kind !== b.kind) return ['kind'];
  if (
    (a.kind === EntryKind.File || a.kind === EntryKind.Hardlink) &&
    (b.kind === EntryKind.File || b.kind === EntryKind.Hardlink)
  ) {
    if (a.size !== b.size || !a.digest.equals(b.digest)) what.push('content');
  }
  if (a.kind === EntryKind.Symlink && b.kind === EntryKind.Symlink && !a.target.equals(b.target)) what.push('target');
  if (a.mode !== b.mode) what.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) what.push('owner');
  // A folder's mtime changes with every file added or removed in it; that is reported through those files.
  if (a.kind !== EntryKind.Directory && a.mtimeNs !== b.mtimeNs) what.push('mtime');
  return what;
}

/**
 * What changed between two folder snapshots: added, removed and changed entries (by metadata and content
 * digest), with sizes. Reads only metadata records, never file contents.
 */
export function diffSnapshots(store: Datastore, from: SnapshotRef, to: SnapshotRef, keys?: SnapshotKeys): SnapshotDiff {
  const diff = new SnapshotDiffer(
    new FolderArchiveReader(store.openSnapshot(from, { crypt: keys })),
    new FolderArchiveReader(store.openSnapshot(to, { crypt: keys })),
  );
  diff.compareFolders(diff.a.root, diff.b.root, '');
  return diff.result;
}

/** Walks two archives side by side, folder by folder, adding what differs to `result` as it goes. */
class SnapshotDiffer {
  readonly result: SnapshotDiff;

  constructor(
    readonly a: FolderArchiveReader,
    readonly b: FolderArchiveReader,
  ) {
    this.result = {
      from: a.snapshot.path,
      to: b.snapshot.path,
      entries: [],
      added: 0,
      removed: 0,
      changed: 0,
      bytesAdded: 0,
      bytesRemoved: 0,
    };
  }

  /** Compares two folders' entries (`da` in a, `db` in b), a merge of their name-sorted lists. */
  compareFolders(da: DirectoryEntry, db: DirectoryEntry, prefix: string): void {
    const ea = this.a.readDirectory(da);
    const eb = this.b.readDirectory(db);
    let i = 0;
    let j = 0;
    while (i < ea.length || j < eb.length) {
      const x = ea[i];
      const y = eb[j];
      const c = x && y ? Buffer.compare(x.name, y.name) : x ? -1 : 1;
      const path = prefix + displayName((c <= 0 ? x! : y!).name);
      if (c < 0) {
        this.removed(path, x!);
        i++;
      } else if (c > 0) {
        this.added(path, y!);
        j++;
      } else {
        this.compareEntries(path, x!, y!);
        i++;
        j++;
      }
    }
  }

  /** Two entries of one name: changed (and, for two folders, compared below), or one thing replaced by another. */
  private compareEntries(path: string, x: ArchiveEntry, y: ArchiveEntry): void {
    if ((x.kind === EntryKind.Directory) !== (y.kind === EntryKind.Directory)) {
      // A file became a folder or the other way round: two different things under one name, with their sizes.
      this.removed(path, x);
      this.added(path, y);
      return;
    }
    const what = differences(x, y)!;
    if (what.length > 0) this.changed(path, x, y, what);
    if (x.kind === EntryKind.Directory && y.kind === EntryKind.Directory) this.compareFolders(x, y, `${path}/`);
  }

  private changed(path: string, x: ArchiveEntry, y: ArchiveEntry, what: NonNullable<DiffEntry['what']>): void {
    const { result } = this;
    // A folder's size is the total below it, whose changes are reported entry by entry.
    const before = x.kind === EntryKind.Directory ? undefined : contentSize(this.a, x);
    const after = y.kind === EntryKind.Directory ? undefined : contentSize(this.b, y);
    result.entries.push({
      path,
      change: 'changed',
      kind: kindName(y.kind),
      sizeBefore: before,
      sizeAfter: after,
      what,
    });
    result.changed++;
    if (before !== undefined && after !== undefined) {
      if (after > before) result.bytesAdded += after - before;
      else result.bytesRemoved += before - after;
    }
  }

  private removed(path: string, e: ArchiveEntry): void {
    const size = contentSize(this.a, e);
    this.result.entries.push({ path, change: 'removed', kind: kindName(e.kind), sizeBefore: size });
    this.result.removed++;
    this.result.bytesRemoved += size;
  }

  private added(path: string, e: ArchiveEntry): void {
    const size = contentSize(this.b, e);
    this.result.entries.push({ path, change: 'added', kind: kindName(e.kind), sizeAfter: size });
    this.result.added++;
    this.result.bytesAdded += size;
  }
}
