import { createHash, randomBytes } from 'node:crypto';
import { closeSync, cpSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, type Stats } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { SnapshotRef } from '../backup/backup-names.js';
import type { Manifest } from '../backup/manifest.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import type { Logger } from '../log.js';
import { EntryKind, type ArchiveEntry, type DirectoryEntry } from './archive-format.js';
import { FolderArchiveReader } from './folder-reader.js';
import { restoreFolder, type FolderRestoreProgress } from './folder-restore.js';
import { displayName } from './names.js';

/** What an in-place restore does with one entry of the selection. */
export type InPlaceAction =
  /** Not there (deleted, or never was): restored. */
  | 'restore'
  /** There as backed up (same size and mtime, or the same content): left alone. */
  | 'unchanged'
  /** There and different: replaced, kept beside as `name (restored DATE).ext`, or left alone, as asked. */
  | 'overwrite'
  | 'keep-both'
  | 'skip'
  /** There and changed after the backup: never replaced without being asked (overwriteNewer). */
  | 'newer-local';

export type ConflictChoice = 'overwrite' | 'keep-both' | 'skip';

export interface InPlaceItem {
  /** Where it is in the snapshot, `/`-separated, names as shown. */
  archivePath: string;
  /** Where it goes (its original place). */
  localPath: string;
  action: InPlaceAction;
  /** keep-both: the name the restored copy gets. */
  restoredAs?: string;
}

export interface InPlaceOptions {
  /** What to restore: '' (everything), a folder or a file of the snapshot. */
  path?: string;
  conflict: ConflictChoice;
  /** Replace a local file that changed after the backup too (the user said so). */
  overwriteNewer?: boolean;
  /** Only the preview: what would happen to each entry. */
  dryRun?: boolean;
  crypt?: CryptConfig;
  signal?: AbortSignal;
  log?: Logger;
  /** The restore's progress (the selection restored into the staging folder), as a folder restore reports it. */
  onProgress?: (progress: FolderRestoreProgress) => void;
  progressIntervalMs?: number;
  /** The date keep-both names carry (today). */
  now?: Date;
}

export interface InPlaceResult {
  items: InPlaceItem[];
  dryRun: boolean;
  counts: Record<InPlaceAction, number>;
}

/**
 * Restores a folder snapshot (or a folder or file of it) to where it was backed up from, as the snapshot's manifest
 * records it: missing files come back, files as they were are left alone, and for files that differ the user's
 * choice holds (overwrite, keep both, skip), except that a local file changed after the backup is never replaced
 * unless asked. The preview (dryRun) says all this per file before anything is written. The selection is restored
 * into a hidden folder beside its place first (same filesystem), then each file is moved into place.
 */
export async function restoreInPlace(
  store: Datastore,
  ref: SnapshotRef,
  options: InPlaceOptions,
): Promise<InPlaceResult> {
  const reader = new FolderArchiveReader(store.openSnapshot(ref, { crypt: options.crypt }));
  const places = originalPlaces(reader.snapshot.manifest);
  const selected = reader.locate(options.path ?? '');
  const selectedPath = selected.names.map(displayName).join('/');
  const items = planItems(reader, selected.entry, selectedPath, places, options);
  const result: InPlaceResult = { items, dryRun: options.dryRun === true, counts: countActions(items) };
  if (options.dryRun || !items.some((i) => isWritten(i.action))) return result;
  await writeItems(store, ref, selectedPath, items, options);
  return result;
}

/**
 * The local folders a snapshot was backed up from, as its manifest records them (one, or one per root entry), or
 * undefined when it records none (an encrypted snapshot never names them in its manifest).
 */
export function recordedSources(manifest: Manifest): { path: string; name?: string }[] | undefined {
  const note = manifest.unprotected['cairn-backup'] as { source?: unknown; sources?: unknown } | undefined;
  if (typeof note?.source === 'string') return [{ path: note.source }];
  if (Array.isArray(note?.sources)) return note.sources as { path: string; name: string }[];
  return undefined;
}

/** The local folder of each archive path prefix: one folder is the root; several, one per root entry. */
function originalPlaces(manifest: Manifest): (archivePath: string) => string {
  const sources = recordedSources(manifest);
  if (sources?.length === 1 && sources[0]!.name === undefined) {
    const root = sources[0]!.path;
    return (p) => join(root, p);
  }
  if (sources) {
    return (p) => {
      const [first, ...rest] = p.split('/');
      const source = sources.find((s) => s.name === first);
      if (!source) throw new CairnError('INVALID_ARGUMENT', `${p} lies in none of the snapshot's folders`);
      return join(source.path, ...rest);
    };
  }
  throw new CairnError(
    'INVALID_ARGUMENT',
    'this snapshot does not record where it was backed up from (an encrypted one never does): restore it with --to <folder>',
  );
}

function planItems(
  reader: FolderArchiveReader,
  entry: ArchiveEntry,
  path: string,
  place: (archivePath: string) => string,
  options: InPlaceOptions,
): InPlaceItem[] {
  if (entry.kind === EntryKind.Directory) {
    return reader.readDirectory(entry as DirectoryEntry).flatMap((child) => {
      const childPath = path ? `${path}/${displayName(child.name)}` : displayName(child.name);
      return planItems(reader, child, childPath, place, options);
    });
  }
  if (path === '') throw new CairnError('INVALID_ARGUMENT', 'nothing to restore');
  const localPath = place(path);
  const action = decide(reader, entry, localPath, options);
  return [
    {
      archivePath: `/${path}`,
      localPath,
      action,
      restoredAs: action === 'keep-both' ? keepBothName(localPath, options.now ?? new Date()) : undefined,
    },
  ];
}

function decide(
  reader: FolderArchiveReader,
  entry: ArchiveEntry,
  localPath: string,
  options: InPlaceOptions,
): InPlaceAction {
  const st = lstatSync(localPath, { throwIfNoEntry: false });
  if (!st) return 'restore';
  if (sameAsBackedUp(reader, entry, localPath, st)) return 'unchanged';
  const backedUpMs = Number(entry.mtimeNs / 1_000_000n);
  if (st.mtimeMs > backedUpMs + 1 && !options.overwriteNewer) return 'newer-local';
  return options.conflict;
}

/** The same kind, size and mtime; or, for a small file, the same content (its digest is its SHA-256). */
function sameAsBackedUp(reader: FolderArchiveReader, entry: ArchiveEntry, localPath: string, st: Stats): boolean {
  if (entry.kind === EntryKind.Symlink) return st.isSymbolicLink();
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink) return false;
  if (!st.isFile() || st.size !== entry.size) return false;
  // To the millisecond: a restore sets mtimes to within 120 ns, and some filesystems keep less.
  if (Math.floor(st.mtimeMs) === Number(entry.mtimeNs / 1_000_000n)) return true;
  return entry.size < reader.chunkDigestMin && sha256File(localPath).equals(entry.digest);
}

function sha256File(path: string): Buffer {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, block, 0, block.length, null)) > 0;) hash.update(block.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest();
}

/** `report.txt` → `report (restored 2026-12-01).txt`, numbered when that is taken too. */
export function keepBothName(localPath: string, now: Date): string {
  const ext = extname(localPath);
  const stem = basename(localPath, ext);
  const day = now.toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const name = `${stem} (restored ${day}${n > 1 ? ` ${n}` : ''})${ext}`;
    const candidate = join(dirname(localPath), name);
    if (!lstatSync(candidate, { throwIfNoEntry: false })) return candidate;
  }
}

const isWritten = (a: InPlaceAction) => a === 'restore' || a === 'overwrite' || a === 'keep-both';

function countActions(items: InPlaceItem[]): Record<InPlaceAction, number> {
  const counts = { restore: 0, unchanged: 0, overwrite: 0, 'keep-both': 0, skip: 0, 'newer-local': 0 };
  for (const i of items) counts[i.action]++;
  return counts;
}

/** The selection restored into a hidden folder beside its place, then each file written moved into place. */
async function writeItems(
  store: Datastore,
  ref: SnapshotRef,
  selectedPath: string,
  items: InPlaceItem[],
  options: InPlaceOptions,
): Promise<void> {
  const written = items.filter((i) => isWritten(i.action));
  const anchor = nearestExisting(dirname(written[0]!.localPath));
  const staging = join(anchor, `.cairn-restore-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const r = await restoreFolder(store, ref, staging, {
      path: selectedPath,
      crypt: options.crypt,
      signal: options.signal,
      log: options.log,
      onProgress: options.onProgress,
      progressIntervalMs: options.progressIntervalMs,
      folderAttributes: false,
    });
    if (r.failedCount > 0)
      throw new CairnError('IO', `${r.failedCount} entries could not be restored; nothing was moved into place`);
    const selectedIsFile = items.length === 1 && items[0]!.archivePath === `/${selectedPath}`;
    for (const item of written) {
      // The staging folder holds the selection's contents: paths below it (a file selected: the file itself).
      const below = selectedPath === '' ? 1 : selectedPath.length + 2;
      const rel = selectedIsFile ? basename(item.archivePath) : item.archivePath.slice(below);
      const dest = item.restoredAs ?? item.localPath;
      mkdirSync(dirname(dest), { recursive: true });
      moveInto(join(staging, rel), dest);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A rename, or across filesystems (a plan's folders on two disks) a copy and a removal. */
function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if (errnoCode(err) !== 'EXDEV') throw ioError('move into place', to, err);
    cpSync(from, to, { preserveTimestamps: true, verbatimSymlinks: true, force: true });
    rmSync(from, { force: true });
  }
}

/** The folder itself, or its nearest parent that exists: where an in-place restore stages what it restores. */
export function nearestExisting(dir: string): string {
  let d = dir;
  while (!lstatSync(d, { throwIfNoEntry: false })?.isDirectory()) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}
