import type { BackupGroupRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import type { SnapshotKeys } from '../datastore/snapshot-key.js';
import { isCairnError } from '../errors.js';
import { EntryKind, kindName, type ArchiveEntry, type EntryKindName } from './archive-format.js';
import { FolderArchiveReader } from './folder-reader.js';

/** One run of snapshots in which a path looked the same: present with one content, or absent. */
export interface PathVersion {
  state: 'present' | 'absent';
  /** The first and the last snapshot of the run (oldest first), and how many it spans. */
  from: string;
  to: string;
  snapshots: number;
  kind?: EntryKindName;
  size?: number;
  /** Epoch ms of the file's mtime in the run's first snapshot. */
  mtime?: number;
  /** Content digest of a file (docs/FORMAT.md): runs are told apart by it, not by metadata alone. */
  digest?: string;
  /** Present and different from the previous version it had (its content, or its kind). */
  changed: boolean;
}

export interface PathVersionsResult {
  path: string;
  versions: PathVersion[];
  /** Snapshots that could not be read (damaged, or encrypted with a key not given), named with why. */
  unreadable: { snapshot: string; message: string }[];
}

interface Sighting {
  snapshot: string;
  entry: ArchiveEntry | undefined;
}

/**
 * Every version of a path across a group's finished folder snapshots, oldest first, runs of identical versions
 * collapsed. Each snapshot is asked only for the records on the path (a handful of metadata chunks), so a group of
 * a thousand snapshots answers in about a second.
 */
export function pathVersions(
  store: Datastore,
  group: BackupGroupRef,
  path: string,
  options: { keys?: SnapshotKeys } = {},
): PathVersionsResult {
  const sightings: Sighting[] = [];
  const unreadable: PathVersionsResult['unreadable'] = [];
  for (const info of store.listSnapshots(group).filter((s) => s.finished)) {
    if (!FolderArchiveReader.hasFolderArchive(info.files)) continue;
    try {
      const reader = new FolderArchiveReader(store.openSnapshot(info, { crypt: options.keys }));
      sightings.push({ snapshot: info.path, entry: reader.lookup(path) });
    } catch (err) {
      if (!isCairnError(err)) throw err;
      unreadable.push({ snapshot: info.path, message: err.message });
    }
  }
  return { path, versions: collapse(sightings), unreadable };
}

/** What makes two sightings the same version: absent, or the same kind with the same content (or target). */
function versionKey(entry: ArchiveEntry | undefined): string {
  if (!entry) return 'absent';
  if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink)
    return `file:${entry.size}:${entry.digest.toString('hex')}`;
  if (entry.kind === EntryKind.Symlink) return `symlink:${entry.target.toString('hex')}`;
  return 'directory';
}

function collapse(sightings: Sighting[]): PathVersion[] {
  const out: PathVersion[] = [];
  let lastPresentKey: string | undefined;
  let runKey: string | undefined;
  for (const { snapshot, entry } of sightings) {
    const key = versionKey(entry);
    const run = out.at(-1);
    if (run && key === runKey) {
      run.to = snapshot;
      run.snapshots++;
      continue;
    }
    runKey = key;
    out.push(
      newVersion(snapshot, entry, lastPresentKey !== undefined && entry !== undefined && key !== lastPresentKey),
    );
    if (entry) lastPresentKey = key;
  }
  return out;
}

function newVersion(snapshot: string, entry: ArchiveEntry | undefined, changed: boolean): PathVersion {
  if (!entry) return { state: 'absent', from: snapshot, to: snapshot, snapshots: 1, changed: false };
  const isFile = entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink;
  return {
    state: 'present',
    from: snapshot,
    to: snapshot,
    snapshots: 1,
    kind: kindName(entry.kind),
    size: isFile ? entry.size : undefined,
    mtime: Number(entry.mtimeNs / 1_000_000n),
    digest: isFile ? entry.digest.toString('hex') : undefined,
    changed,
  };
}
