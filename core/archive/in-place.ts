import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  constants,
  symlinkSync,
  utimesSync,
  type BigIntStats,
} from 'node:fs';
import { isUtf8 } from 'node:buffer';
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
import { nsToTime } from './file-writer.js';
import { displayName } from './names.js';
import { sameSizeAndTime } from './source-stat.js';

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
  /** Where it goes (its original place), as shown (names that are not UTF-8 with `\xHH`). */
  localPath: string;
  action: InPlaceAction;
  /** keep-both: the name the restored copy gets, as shown. */
  restoredAs?: string;
}

/**
 * An item and the paths the restore works with, as byte strings: one character per byte (latin1), so that a
 * name that is not UTF-8 stays its own bytes (a JS string path would be written as UTF-8, and the shown name is
 * another name), while join, dirname, basename and extname work on them as on the bytes.
 */
interface PlannedItem {
  item: InPlaceItem;
  /** Its original place. */
  local: string;
  /** Its path in the staging folder (below the selection). */
  staged: string;
  /** keep-both: where the restored copy goes. */
  keepAs?: string;
}

/** A path or name as a byte string. */
function byteString(path: string | Uint8Array): string {
  return typeof path === 'string'
    ? Buffer.from(path).toString('latin1')
    : Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString('latin1');
}

/** The path the filesystem calls take for a byte string. */
function diskPath(bytes: string): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/** A byte string as shown to the user. */
function shown(bytes: string): string {
  return displayName(diskPath(bytes));
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
  const selection = {
    path: selected.names.map(byteString).join('/'),
    isFile: selected.entry.kind !== EntryKind.Directory,
  };
  const planned = planItems(reader, selected.entry, selection.path, places, { ...options, selection });
  const items = planned.map((p) => p.item);
  const result: InPlaceResult = { items, dryRun: options.dryRun === true, counts: countActions(items) };
  if (options.dryRun || !items.some((i) => isWritten(i.action))) return result;
  await writeItems(store, ref, selected.names, planned, options);
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

/**
 * The local folder of each archive path prefix (byte strings): one folder is the root; several, one per root
 * entry.
 */
function originalPlaces(manifest: Manifest): (archivePath: string) => string {
  const sources = recordedSources(manifest);
  if (sources?.length === 1 && sources[0]!.name === undefined) {
    const root = byteString(sources[0]!.path);
    return (p) => join(root, p);
  }
  if (sources) {
    return (p) => {
      const [first, ...rest] = p.split('/');
      const source = sources.find((s) => s.name !== undefined && byteString(s.name) === first);
      if (!source) throw new CairnError('INVALID_ARGUMENT', `${shown(p)} lies in none of the snapshot's folders`);
      return join(byteString(source.path), ...rest);
    };
  }
  throw new CairnError(
    'INVALID_ARGUMENT',
    'this snapshot does not record where it was backed up from (an encrypted one never does): restore it with --to <folder>',
  );
}

/** What the selection is: its archive path (a byte string) and whether it is one file. */
interface PlanOptions extends InPlaceOptions {
  selection: { path: string; isFile: boolean };
}

/** Each file of `entry` (at `path`, a byte string) and what to do with it. */
function planItems(
  reader: FolderArchiveReader,
  entry: ArchiveEntry,
  path: string,
  place: (archivePath: string) => string,
  options: PlanOptions,
): PlannedItem[] {
  if (entry.kind === EntryKind.Directory) {
    return reader.readDirectory(entry as DirectoryEntry).flatMap((child) => {
      const name = byteString(child.name);
      return planItems(reader, child, path ? `${path}/${name}` : name, place, options);
    });
  }
  if (path === '') throw new CairnError('INVALID_ARGUMENT', 'nothing to restore');
  const local = place(path);
  const action = decide(reader, entry, local, options);
  const keepAs = action === 'keep-both' ? keepBothPath(local, options.now ?? new Date()) : undefined;
  const { selection } = options;
  return [
    {
      item: { archivePath: `/${shown(path)}`, localPath: shown(local), action, restoredAs: keepAs && shown(keepAs) },
      local,
      // The staging folder holds the selection's contents: paths below it (a file selected: the file itself).
      staged: selection.isFile ? basename(path) : selection.path === '' ? path : path.slice(selection.path.length + 1),
      keepAs,
    },
  ];
}

function decide(
  reader: FolderArchiveReader,
  entry: ArchiveEntry,
  localPath: string,
  options: InPlaceOptions,
): InPlaceAction {
  const st = lstatSync(diskPath(localPath), { bigint: true, throwIfNoEntry: false });
  if (!st) return 'restore';
  if (sameAsBackedUp(reader, entry, localPath, st)) return 'unchanged';
  if (st.mtimeNs > entry.mtimeNs + 1_000_000n && !options.overwriteNewer) return 'newer-local';
  return options.conflict;
}

/**
 * The same kind, size and mtime; or, for a small file, the same content (its digest is its SHA-256). `localPath`
 * is a byte string.
 */
function sameAsBackedUp(reader: FolderArchiveReader, entry: ArchiveEntry, localPath: string, st: BigIntStats): boolean {
  if (entry.kind === EntryKind.Symlink)
    return st.isSymbolicLink() && readlinkSync(diskPath(localPath), { encoding: 'buffer' }).equals(entry.target);
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink) return false;
  if (!st.isFile() || Number(st.size) !== entry.size) return false;
  if (sameSizeAndTime(st, entry)) return true;
  return entry.size < reader.chunkDigestMin && sha256File(diskPath(localPath)).equals(entry.digest);
}

function sha256File(path: Buffer): Buffer {
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
  return shown(keepBothPath(byteString(localPath), now));
}

/** keepBothName of a byte string, as one. */
function keepBothPath(local: string, now: Date): string {
  const ext = extname(local);
  const stem = basename(local, ext);
  const day = now.toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const candidate = join(dirname(local), `${stem} (restored ${day}${n > 1 ? ` ${n}` : ''})${ext}`);
    if (!lstatSync(diskPath(candidate), { throwIfNoEntry: false })) return candidate;
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
  selection: readonly Buffer[],
  planned: PlannedItem[],
  options: InPlaceOptions,
): Promise<void> {
  const written = planned.filter((p) => isWritten(p.item.action));
  const anchor = stagingAnchor(written[0]!.local);
  const staging = join(anchor, `.cairn-restore-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const r = await restoreFolder(store, ref, diskPath(staging).toString(), {
      path: selection,
      crypt: options.crypt,
      signal: options.signal,
      log: options.log,
      onProgress: options.onProgress,
      progressIntervalMs: options.progressIntervalMs,
      folderAttributes: false,
    });
    if (r.failedCount > 0)
      throw new CairnError('IO', `${r.failedCount} entries could not be restored; nothing was moved into place`);
    for (const p of written) {
      const dest = p.keepAs ?? p.local;
      mkdirSync(diskPath(dirname(dest)), { recursive: true });
      moveInto(join(staging, p.staged), dest);
    }
  } finally {
    rmSync(diskPath(staging), { recursive: true, force: true });
  }
}

/**
 * Where the staging folder goes (a byte string): the nearest folder that exists above the first file to write,
 * and whose path is UTF-8 (the restore takes its target as a string).
 */
function stagingAnchor(local: string): string {
  let anchor = nearestExistingBytes(dirname(local));
  while (!isUtf8(diskPath(anchor)) && dirname(anchor) !== anchor) anchor = dirname(anchor);
  return anchor;
}

/** A rename, or across filesystems (a plan's folders on two disks) a copy and a removal; byte strings. */
function moveInto(from: string, to: string): void {
  try {
    renameSync(diskPath(from), diskPath(to));
  } catch (err) {
    if (errnoCode(err) !== 'EXDEV') throw ioError('move into place', shown(to), err);
    copyAcross(diskPath(from), diskPath(to));
    rmSync(diskPath(from), { force: true });
  }
}

/**
 * A file (its mode and times, to the nanosecond where the filesystem keeps them) or a symlink copied to another
 * filesystem: under a temporary name beside `to`, then renamed over it, so that what is there (a symlink, a
 * hardlink, a read-only file) is replaced, never written through, and a copy cut short never stands in its place.
 */
function copyAcross(from: Buffer, to: Buffer): void {
  const tmp = Buffer.concat([to, Buffer.from(`.cairn-${randomBytes(4).toString('hex')}.tmp`)]);
  try {
    const st = lstatSync(from, { bigint: true });
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(from, { encoding: 'buffer' }), tmp);
    } else {
      copyFileSync(from, tmp, constants.COPYFILE_EXCL);
      chmodSync(tmp, Number(st.mode) & 0o7777);
      utimesSync(tmp, nsToTime(st.atimeNs), nsToTime(st.mtimeNs));
    }
    renameSync(tmp, to);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw ioError('copy into place', shown(byteString(to)), err);
  }
}

/** The folder itself, or its nearest parent that exists: where an in-place restore stages what it restores. */
export function nearestExisting(dir: string): string {
  return diskPath(nearestExistingBytes(byteString(dir))).toString();
}

/** nearestExisting of a byte string, as one. */
function nearestExistingBytes(dir: string): string {
  let d = dir;
  while (!lstatSync(diskPath(d), { throwIfNoEntry: false })?.isDirectory()) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}
