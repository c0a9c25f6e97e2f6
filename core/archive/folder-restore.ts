import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, symlinkSync, unlinkSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError, type CairnErrorCode } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import { workerScriptUrl } from '../jobs/worker-url.js';
import { MemoryLogger, type Logger } from '../log.js';
import { EntryKind, isSafeName, type ArchiveEntry, type DirectoryEntry, type FileEntry } from './archive-format.js';
import { isRoot, nsToTime, restoreFile, type FileRestoreJob } from './file-writer.js';
import { FolderArchiveReader, splitArchivePath } from './folder-reader.js';
import type { RestoreWorkerData, RestoreWorkerMessage } from './restore-worker.js';

export interface FolderRestoreProgress extends RateSample {
  phase: 'restoring';
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
  /** Worker threads writing files (0: all on the job's thread). */
  workers?: number;
}

/** Below this many files, threads cost more than they save. */
const MIN_FILES_FOR_WORKERS = 64;

/**
 * Restores a snapshot, a folder of it or one file into `target`. Contents are checked (every chunk, and each
 * file's SHA-256), modes and mtimes restored, symlinks and hardlinks recreated. Nothing is written outside the
 * target: names are validated, and no folder on the way may be a symlink. Files are written to tmp siblings
 * and renamed, by worker threads in payload order; folders first, their attributes last.
 */
export async function restoreFolder(store: Datastore, ref: SnapshotRef, target: string, options: FolderRestoreOptions = {}):
  Promise<FolderRestoreResult> {
  // Held for the whole restore: the snapshot cannot be forgotten (or pruned) under it.
  const lock = store.lockSnapshotShared(ref, `restore of ${snapshotPath(ref)}`);
  try {
    return await runRestore(store, ref, target, { ...options, signal: anySignal(options.signal, lock.signal) });
  } finally {
    lock.release();
  }
}

async function runRestore(store: Datastore, ref: SnapshotRef, target: string, options: FolderRestoreOptions): Promise<FolderRestoreResult> {
  const reader = new FolderArchiveReader(store.openSnapshot(ref));
  const selected = reader.get(options.path ?? '');
  const memoryLog = new MemoryLogger();
  const log: Logger = {
    info: (m) => { memoryLog.info(m); options.log?.info(m); },
    warn: (m) => { memoryLog.warn(m); options.log?.warn(m); },
  };
  const dest = resolve(target);
  const files: FileRestoreJob[] = [];
  const hardlinks: { entry: FileEntry; path: string; archivePath: string }[] = [];
  const folders: { entry: DirectoryEntry; path: string }[] = [];

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

  const job = (entry: FileEntry, path: string, archivePath: string): FileRestoreJob => ({
    path, archivePath, size: entry.size, payloadOffset: entry.payloadOffset, digest: entry.digest, mode: entry.mode, uid: entry.uid,
    gid: entry.gid, mtimeNs: entry.mtimeNs,
  });

  // 1. Folders and symlinks now; files and hardlinks collected.
  let conflicts = 0;
  let lastYield = performance.now();
  const plan = async (entry: ArchiveEntry, path: string, archivePath: string): Promise<void> => {
    if (!isSafeName(entry.name)) throw new CairnError('CORRUPT', `unsafe name in the archive at ${archivePath}`);
    if (performance.now() - lastYield > 50) {
      throwIfCancelled(options.signal, 'restore');
      await yieldToEventLoop();
      lastYield = performance.now();
    }
    switch (entry.kind) {
      case EntryKind.Directory:
        ensureRealDirectory(path, true);
        await planChildren(entry, path, archivePath);
        return;
      case EntryKind.Symlink: {
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (st?.isDirectory()) throw new CairnError('ALREADY_EXISTS', `cannot restore ${path}: a folder is in the way`);
        if (st && !options.overwrite) {
          conflicts++;
          log.warn(`kept existing ${path} (not overwriting)`);
          return;
        }
        try {
          if (st) unlinkSync(path);
          symlinkSync(entry.target, path);
          lutimesSync(path, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
          if (isRoot) lchownSync(path, entry.uid, entry.gid);
        } catch (err) {
          throw ioError('create symlink', path, err);
        }
        return;
      }
      case EntryKind.Hardlink:
        hardlinks.push({ entry, path, archivePath });
        return;
      case EntryKind.File:
        files.push(job(entry, path, archivePath));
        return;
    }
  };
  const planChildren = async (dir: DirectoryEntry, path: string, archivePath: string): Promise<void> => {
    for (const child of reader.readDirectory(dir)) {
      const name = child.name.toString();
      await plan(child, join(path, name), archivePath ? `${archivePath}/${name}` : name);
    }
    folders.push({ entry: dir, path });
  };

  const selectedPath = splitArchivePath(options.path ?? '').map((n) => n.toString()).join('/');
  mkdirSync(dest, { recursive: true });
  ensureRealDirectory(dest, false);
  if (selected.kind === EntryKind.Directory) await planChildren(selected, dest, selectedPath);
  else await plan(selected, join(dest, selected.name.toString()), selectedPath);

  // 2. Files, by worker threads (or here, for a few).
  const bytesTotal = files.reduce((n, f) => n + f.size, 0) + hardlinks.reduce((n, h) => n + h.entry.size, 0);
  const progress: FolderRestoreProgress = {
    phase: 'restoring', filesTotal: files.length + hardlinks.length, bytesTotal, filesDone: 0, bytesDone: 0, currentPath: '', rate: 0,
    elapsedMs: 0,
  };
  const meter = new RateMeter(bytesTotal);
  const report = throttle((p: FolderRestoreProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 100);
  const advance = (filesDone: number, bytes: number, path?: string): void => {
    progress.filesDone += filesDone;
    progress.bytesDone += bytes;
    if (path !== undefined) progress.currentPath = path;
    Object.assign(progress, meter.sample(progress.bytesDone));
    report.push(progress);
  };
  files.sort((a, b) => a.payloadOffset - b.payloadOffset);
  const existing = options.overwrite ? 'overwrite' : 'keep';
  const workers = Math.min(options.workers ?? 2, files.length >= MIN_FILES_FOR_WORKERS ? 8 : 0);
  const restored = new Map<string, string>();
  const kept: string[] = [];
  if (workers > 0) {
    const results = await runRestoreWorkers(store.root, ref, existing, partition(files, workers), options.signal, advance);
    for (const r of results) {
      for (const p of r.restored) restored.set(p, '');
      kept.push(...r.kept);
    }
  } else {
    for (const f of files) {
      throwIfCancelled(options.signal, 'restore');
      const wrote = restoreFile(f, reader.data.slices(f.payloadOffset, f.size), existing, (n) => advance(0, n, f.archivePath));
      if (wrote) restored.set(f.archivePath, '');
      else kept.push(f.archivePath);
      advance(1, 0);
      await yieldToEventLoop();
    }
  }
  const pathOf = new Map(files.map((f) => [f.archivePath, f.path]));
  for (const p of kept) {
    conflicts++;
    log.warn(`kept existing ${pathOf.get(p)} (not overwriting)`);
  }

  // 3. Hardlinks to files restored here; otherwise (target outside the selection) a copy.
  for (const h of hardlinks) {
    throwIfCancelled(options.signal, 'restore');
    const targetArchivePath = h.entry.linkTarget?.toString() ?? '';
    const linked = restored.has(targetArchivePath) ? pathOf.get(targetArchivePath) : undefined;
    const st = lstatSync(h.path, { throwIfNoEntry: false });
    if (st && !options.overwrite) {
      conflicts++;
      log.warn(`kept existing ${h.path} (not overwriting)`);
    } else if (linked) {
      try {
        if (st) unlinkSync(h.path);
        linkSync(linked, h.path);
      } catch (err) {
        throw ioError('create hardlink', h.path, err);
      }
    } else {
      restoreFile(job(h.entry, h.path, h.archivePath), reader.data.slices(h.entry.payloadOffset, h.entry.size), existing, () => {});
    }
    advance(1, h.entry.size);
  }

  // 4. Folder attributes last: a read-only folder would refuse its children, and writing changes mtimes.
  for (const { entry, path } of folders) {
    try {
      chmodSync(path, entry.mode);
      utimesSync(path, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
      if (isRoot) lchownSync(path, entry.uid, entry.gid);
    } catch (err) {
      log.warn(`cannot set the attributes of ${path}: ${(err as Error).message}`);
    }
  }
  Object.assign(progress, meter.sample(progress.bytesDone));
  progress.currentPath = '';
  report.flush(progress);
  return { ...progress, target: dest, conflicts, warnings: memoryLog.lines.filter((l) => l.level === 'warn').map((l) => l.message) };
}

/** Contiguous runs of the payload-ordered files, balanced by bytes, one per worker. */
function partition(files: FileRestoreJob[], parts: number): FileRestoreJob[][] {
  const total = files.reduce((n, f) => n + f.size, 0) || 1;
  const out: FileRestoreJob[][] = Array.from({ length: parts }, () => []);
  let acc = 0;
  for (const f of files) {
    const i = Math.min(parts - 1, Math.floor((acc / total) * parts));
    out[i]!.push(f);
    acc += f.size;
  }
  return out.filter((p) => p.length > 0);
}

async function runRestoreWorkers(root: string, snapshot: SnapshotRef, existing: 'keep' | 'overwrite', shares: FileRestoreJob[][],
  signal: AbortSignal | undefined, advance: (files: number, bytes: number) => void): Promise<{ restored: string[]; kept: string[] }[]> {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const stop = (): void => { Atomics.store(flag, 0, 1); };
  signal?.addEventListener('abort', stop, { once: true });
  const url = workerScriptUrl(import.meta.url, './restore-worker.js');
  try {
    return await Promise.all(shares.map((jobs) => new Promise<{ restored: string[]; kept: string[] }>((resolvePromise, reject) => {
      const data: RestoreWorkerData = { root, snapshot, existing, jobs, cancel };
      const worker = new Worker(url, { workerData: data });
      let settled = false;
      worker.on('message', (m: RestoreWorkerMessage) => {
        if (m.type === 'progress') advance(m.files, m.bytes);
        else if (m.type === 'done') { settled = true; resolvePromise({ restored: m.restored, kept: m.kept }); }
        else {
          settled = true;
          stop();
          reject(new CairnError((m.code as CairnErrorCode | undefined) ?? 'IO', m.message));
        }
      });
      worker.on('error', (err) => { stop(); reject(err); });
      worker.on('exit', (code) => { if (!settled) reject(new Error(`restore worker exited with code ${code}`)); });
    })));
  } catch (err) {
    stop();
    if (signal?.aborted) throwIfCancelled(signal, 'restore');
    throw err;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
