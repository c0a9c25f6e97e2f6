import { createHash } from 'node:crypto';
import {
  closeSync, constants, fchmodSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync,
  renameSync, symlinkSync, unlinkSync, utimesSync, chmodSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError, isCairnError } from '../errors.js';
import { tmpSiblingPath, writeAllSync } from '../fs/atomic-write.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import { MemoryLogger, type Logger } from '../log.js';
import { EntryKind, isSafeName, type ArchiveEntry, type DirectoryEntry, type FileEntry } from './archive-format.js';
import { FolderArchiveReader, splitArchivePath } from './folder-reader.js';

export interface FolderRestoreProgress extends RateSample {
  phase: 'counting' | 'restoring';
  filesTotal: number;
  bytesTotal: number;
  filesDone: number;
  bytesDone: number;
  currentPath: string;
}

export interface FolderRestoreResult extends FolderRestoreProgress {
  target: string;
  /** Existing files left alone because overwrite was not asked for. */
  conflicts: number;
  warnings: string[];
}

export interface FolderRestoreOptions {
  /** What to restore: '' (everything), a folder (its contents go into the target) or a file. */
  path?: string;
  overwrite?: boolean;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: FolderRestoreProgress) => void;
  progressIntervalMs?: number;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function seconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

/** Counts what a restore will write, from the metadata only. */
function countTree(reader: FolderArchiveReader, entry: ArchiveEntry, totals: { files: number; bytes: number }): void {
  if (entry.kind === EntryKind.Directory) {
    for (const child of reader.readDirectory(entry)) countTree(reader, child, totals);
  } else if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink) {
    totals.files++;
    totals.bytes += entry.size;
  }
}

/**
 * Restores a snapshot, a folder of it or one file into `target`. Contents are checked (every chunk, and each
 * file's SHA-256), modes and mtimes restored, symlinks and hardlinks recreated. Nothing is written outside the
 * target: names are validated, and no folder on the way may be a symlink. Each file is written to a tmp
 * sibling and renamed, so a cancelled restore leaves no torn file.
 */
export async function restoreFolder(store: Datastore, ref: SnapshotRef, target: string, options: FolderRestoreOptions = {}):
  Promise<FolderRestoreResult> {
  const reader = new FolderArchiveReader(store.openSnapshot(ref));
  const selected = reader.get(options.path ?? '');
  const memoryLog = new MemoryLogger();
  const log: Logger = {
    info: (m) => { memoryLog.info(m); options.log?.info(m); },
    warn: (m) => { memoryLog.warn(m); options.log?.warn(m); },
  };
  const totals = { files: 0, bytes: 0 };
  countTree(reader, selected, totals);
  const progress: FolderRestoreProgress = {
    phase: 'restoring', filesTotal: totals.files, bytesTotal: totals.bytes, filesDone: 0, bytesDone: 0, currentPath: '', rate: 0, elapsedMs: 0,
  };
  const meter = new RateMeter(totals.bytes);
  const report = throttle((p: FolderRestoreProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 100);
  const dest = resolve(target);
  let conflicts = 0;
  let lastYield = performance.now();
  /** Archive path of each restored regular file → where it was written, for hardlinks. */
  const restoredFiles = new Map<string, string>();

  const ensureRealDirectory = (path: string, create: boolean): void => {
    try {
      if (create) mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError('create folder', path, err);
    }
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) throw new CairnError('NOT_FOUND', `cannot restore into ${path}: it does not exist`);
    if (st.isSymbolicLink()) throw new CairnError('PATH_NOT_ALLOWED', `refusing to restore through ${path}: it is a symlink`);
    if (!st.isDirectory()) throw new CairnError('PATH_NOT_ALLOWED', `cannot restore into ${path}: it is not a folder`);
  };

  const existing = (path: string): boolean => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return false;
    if (st.isDirectory()) throw new CairnError('ALREADY_EXISTS', `cannot restore ${path}: a folder is in the way`);
    if (!options.overwrite) {
      conflicts++;
      log.warn(`kept existing ${path} (not overwriting)`);
      return true;
    }
    return false;
  };

  const writeFile = (path: string, entry: FileEntry): void => {
    const tmp = tmpSiblingPath(path);
    let fd: number | undefined;
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
      const hash = createHash('sha256');
      let at = 0;
      for (const slice of reader.fileContent(entry)) {
        writeAllSync(fd, slice, at);
        hash.update(slice);
        at += slice.length;
        progress.bytesDone += slice.length;
      }
      if (!hash.digest().equals(entry.digest)) throw new CairnError('CORRUPT', `${path}: restored content does not match the snapshot's checksum`);
      fchmodSync(fd, entry.mode);
      futimesSync(fd, seconds(entry.mtimeNs), seconds(entry.mtimeNs));
      closeSync(fd);
      fd = undefined;
      if (isRoot) lchownSync(tmp, entry.uid, entry.gid);
      renameSync(tmp, path);
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      try { unlinkSync(tmp); } catch { /* not created */ }
      throw isCairnError(err) ? err : ioError('restore', path, err);
    }
  };

  const restoreEntry = async (entry: ArchiveEntry, path: string, archivePath: string): Promise<void> => {
    if (!isSafeName(entry.name)) throw new CairnError('CORRUPT', `unsafe name in the archive at ${archivePath}`);
    switch (entry.kind) {
      case EntryKind.Directory:
        ensureRealDirectory(path, true);
        await restoreChildren(entry, path, archivePath);
        return;
      case EntryKind.Symlink:
        if (existing(path)) return;
        try {
          if (options.overwrite) try { unlinkSync(path); } catch { /* absent */ }
          symlinkSync(entry.target, path);
          lutimesSync(path, seconds(entry.mtimeNs), seconds(entry.mtimeNs));
          if (isRoot) lchownSync(path, entry.uid, entry.gid);
        } catch (err) {
          throw ioError('create symlink', path, err);
        }
        return;
      case EntryKind.Hardlink:
      case EntryKind.File: {
        progress.currentPath = archivePath;
        if (!existing(path)) {
          const linked = entry.kind === EntryKind.Hardlink ? restoredFiles.get(entry.linkTarget?.toString('latin1') ?? '') : undefined;
          if (linked) {
            if (options.overwrite) try { unlinkSync(path); } catch { /* absent */ }
            try {
              linkSync(linked, path);
            } catch (err) {
              throw ioError('create hardlink', path, err);
            }
            progress.bytesDone += entry.size;
          } else {
            writeFile(path, entry);
            restoredFiles.set(Buffer.from(archivePath).toString('latin1'), path);
          }
        }
        progress.filesDone++;
        Object.assign(progress, meter.sample(progress.bytesDone));
        report.push(progress);
        if (performance.now() - lastYield > 50) {
          throwIfCancelled(options.signal, 'restore');
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        return;
      }
    }
  };

  const restoreChildren = async (dir: DirectoryEntry, path: string, archivePath: string): Promise<void> => {
    for (const child of reader.readDirectory(dir)) {
      const name = child.name.toString();
      await restoreEntry(child, join(path, name), archivePath ? `${archivePath}/${name}` : name);
    }
    // Folder metadata last: a read-only folder would refuse its own children, and writes change mtimes.
    try {
      chmodSync(path, dir.mode);
      utimesSync(path, seconds(dir.mtimeNs), seconds(dir.mtimeNs));
      if (isRoot) lchownSync(path, dir.uid, dir.gid);
    } catch (err) {
      log.warn(`cannot set the attributes of ${path}: ${(err as Error).message}`);
    }
  };

  const selectedPath = splitArchivePath(options.path ?? '').map((n) => n.toString()).join('/');
  mkdirSync(dest, { recursive: true });
  ensureRealDirectory(dest, false);
  if (selected.kind === EntryKind.Directory) await restoreChildren(selected, dest, selectedPath);
  else await restoreEntry(selected, join(dest, selected.name.toString()), selectedPath);
  Object.assign(progress, meter.sample(progress.bytesDone));
  progress.currentPath = '';
  report.flush(progress);
  return { ...progress, target: dest, conflicts, warnings: memoryLog.lines.filter((l) => l.level === 'warn').map((l) => l.message) };
}
