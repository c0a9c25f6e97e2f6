import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, symlinkSync, unlinkSync, utimesSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError, isCairnError, type CairnErrorCode } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import { workerScriptUrl } from '../jobs/worker-url.js';
import { MemoryLogger, type Logger } from '../log.js';
import { EntryKind, isSafeName, type ArchiveEntry, type DirectoryEntry, type FileEntry } from './archive-format.js';
import { isRoot, nsToTime, restoreFile, type FileRestoreJob } from './file-writer.js';
import { FolderArchiveReader } from './folder-reader.js';
import { asFsPath, displayName, fsPath } from './names.js';
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
  /** Existing files, hardlinks and symlinks left alone because overwrite was not asked for. */
  conflicts: number;
  /** Of filesDone and bytesDone: the files (and hardlinks) kept as they were, not written. */
  filesKept: number;
  bytesKept: number;
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

const SLASH = Buffer.from('/');

/** Below this many files, threads cost more than they save. */
const MIN_FILES_FOR_WORKERS = 64;

/**
 * Restores a snapshot, a folder of it or one file into `target`. Contents are checked (every chunk, and each
 * file's SHA-256), modes and mtimes restored, symlinks and hardlinks recreated. Nothing is written outside the
 * target: names are validated, and no folder on the way may be a symlink. Files are written to tmp siblings
 * and renamed, by worker threads in payload order; folders first, their attributes last.
 *
 * Cancelling: until the last file and hardlink are written, a cancel stops the restore at the next file and
 * it fails with CANCELLED (files already written stay, no tmp file is left, folder attributes are not set).
 * A cancel that arrives after that changes nothing: everything is there, so the folder attributes are set
 * and the restore reports success.
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
  const selected = reader.locate(options.path ?? '');
  const memoryLog = new MemoryLogger();
  const log: Logger = {
    info: (m) => { memoryLog.info(m); options.log?.info(m); },
    warn: (m) => { memoryLog.warn(m); options.log?.warn(m); },
  };
  const dest = resolve(target);
  // Paths are bytes from here on: names that are not valid UTF-8 are written under their exact bytes.
  const files: FileRestoreJob[] = [];
  /** The archive path of each file (bytes, as latin1 text), for hardlinks to find their first link. */
  const fileKeys: string[] = [];
  const hardlinks: { entry: FileEntry; path: Buffer; archivePath: Buffer }[] = [];
  const folders: { entry: DirectoryEntry; path: Buffer }[] = [];

  const ensureRealDirectory = (path: Buffer, create: boolean): void => {
    try {
      if (create) mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError('create folder', displayName(path), err);
    }
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) throw new CairnError('NOT_FOUND', `cannot restore into ${displayName(path)}: it does not exist`);
    if (st.isSymbolicLink()) throw new CairnError('PATH_NOT_ALLOWED', `refusing to restore through ${displayName(path)}: it is a symlink`);
    if (!st.isDirectory()) throw new CairnError('PATH_NOT_ALLOWED', `cannot restore into ${displayName(path)}: it is not a folder`);
  };

  const job = (entry: FileEntry, path: Buffer, archivePath: Buffer, id: number): FileRestoreJob => ({
    id, path: fsPath(path), archivePath: displayName(archivePath), size: entry.size, payloadOffset: entry.payloadOffset, digest: entry.digest,
    mode: entry.mode, uid: entry.uid, gid: entry.gid, mtimeNs: entry.mtimeNs,
  });

  // 1. Folders and symlinks now; files and hardlinks collected.
  let conflicts = 0;
  let filesKept = 0;
  let bytesKept = 0;
  let lastYield = performance.now();
  const plan = async (entry: ArchiveEntry, path: Buffer, archivePath: Buffer): Promise<void> => {
    if (!isSafeName(entry.name)) throw new CairnError('CORRUPT', `unsafe name in the archive at ${displayName(archivePath)}`);
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
        if (st?.isDirectory()) throw new CairnError('ALREADY_EXISTS', `cannot restore ${displayName(path)}: a folder is in the way`);
        if (st && !options.overwrite) {
          conflicts++;
          log.warn(`kept existing ${displayName(path)} (not overwriting)`);
          return;
        }
        try {
          if (st) unlinkSync(path);
          symlinkSync(entry.target, path);
          lutimesSync(path, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
          if (isRoot) lchownSync(path, entry.uid, entry.gid);
        } catch (err) {
          throw ioError('create symlink', displayName(path), err);
        }
        return;
      }
      case EntryKind.Hardlink:
        hardlinks.push({ entry, path, archivePath });
        return;
      case EntryKind.File:
        files.push(job(entry, path, archivePath, files.length));
        fileKeys.push(archivePath.toString('latin1'));
        return;
    }
  };
  const planChildren = async (dir: DirectoryEntry, path: Buffer, archivePath: Buffer): Promise<void> => {
    for (const child of reader.readDirectory(dir)) {
      await plan(child, Buffer.concat([path, SLASH, child.name]), archivePath.length > 0 ? Buffer.concat([archivePath, SLASH, child.name]) : child.name);
    }
    folders.push({ entry: dir, path });
  };

  const selectedPath = Buffer.concat(selected.names.flatMap((n, i) => (i > 0 ? [SLASH, n] : [n])));
  mkdirSync(dest, { recursive: true });
  const destBytes = Buffer.from(dest);
  ensureRealDirectory(destBytes, false);
  if (selected.entry.kind === EntryKind.Directory) await planChildren(selected.entry, destBytes, selectedPath);
  else await plan(selected.entry, Buffer.concat([destBytes, SLASH, selected.entry.name]), selectedPath);

  // 2. Files, by worker threads (or here, for a few). A cancel during planning stops the restore here.
  throwIfCancelled(options.signal, 'restore');
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
  const byId = files.slice(); // job.id is its position here
  files.sort((a, b) => a.payloadOffset - b.payloadOffset);
  const existing = options.overwrite ? 'overwrite' : 'keep';
  const workers = Math.min(options.workers ?? 2, files.length >= MIN_FILES_FOR_WORKERS ? 8 : 0);
  const wrote = new Uint8Array(files.length);
  if (workers > 0) {
    for (const id of await runRestoreWorkers(store.root, ref, existing, files, workers, options.signal, advance)) wrote[id] = 1;
  } else {
    for (const f of files) {
      throwIfCancelled(options.signal, 'restore');
      const content = reader.data.slices(f.payloadOffset, f.size);
      if (restoreFile(f, content, existing, (n) => advance(0, n, f.archivePath), reader.chunkDigestOf(f.payloadOffset, f.size))) wrote[f.id] = 1;
      else advance(0, f.size); // kept: its bytes count as done, so progress reaches the total
      advance(1, 0);
      await yieldToEventLoop();
    }
  }
  for (const f of byId) {
    if (wrote[f.id]) continue;
    conflicts++;
    filesKept++;
    bytesKept += f.size;
    log.warn(`kept existing ${displayName(f.path)} (not overwriting)`);
  }

  // 3. Hardlinks to files restored here; otherwise (target outside the selection, or kept) a copy.
  const idOfKey = hardlinks.length > 0 ? new Map(fileKeys.map((key, id) => [key, id])) : undefined;
  for (const h of hardlinks) {
    throwIfCancelled(options.signal, 'restore');
    const id = h.entry.linkTarget ? idOfKey?.get(h.entry.linkTarget.toString('latin1')) : undefined;
    const linked = id !== undefined && wrote[id] ? asFsPath(byId[id]!.path) : undefined;
    const st = lstatSync(h.path, { throwIfNoEntry: false });
    if (st && !options.overwrite) {
      conflicts++;
      filesKept++;
      bytesKept += h.entry.size;
      log.warn(`kept existing ${displayName(h.path)} (not overwriting)`);
    } else if (linked !== undefined) {
      try {
        if (st) unlinkSync(h.path);
        linkSync(linked, h.path);
      } catch (err) {
        throw ioError('create hardlink', displayName(h.path), err);
      }
    } else {
      const { payloadOffset, size } = h.entry;
      restoreFile(job(h.entry, h.path, h.archivePath, -1), reader.data.slices(payloadOffset, size), existing, () => {}, reader.chunkDigestOf(payloadOffset, size));
    }
    advance(1, h.entry.size);
  }

  // Every file and hardlink is written: the restore is complete. A cancel from here on changes nothing; the
  // folders' attributes (quick) are still set, and the restore reports success.
  // 4. Folder attributes last: a read-only folder would refuse its children, and writing changes mtimes.
  for (const { entry, path } of folders) {
    try {
      if (isRoot) lchownSync(path, entry.uid, entry.gid); // before the mode: a chown may clear setgid
      chmodSync(path, entry.mode);
      utimesSync(path, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
    } catch (err) {
      log.warn(`cannot set the attributes of ${displayName(path)}: ${(err as Error).message}`);
    }
  }
  Object.assign(progress, meter.sample(progress.bytesDone));
  progress.currentPath = '';
  report.flush(progress);
  return { ...progress, target: dest, conflicts, filesKept, bytesKept, warnings: memoryLog.lines.filter((l) => l.level === 'warn').map((l) => l.message) };
}

/**
 * A batch ends after this many bytes or files: small enough to share the work, big enough that the workers
 * seldom decode the same chunk, or create files in the same folder at once (which makes them wait on each other).
 */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 1024;

/**
 * Where each batch of the payload-ordered files starts (and, last, where the files end). Workers take batches
 * one at a time, so the work stays shared however it is made: creating 20,000 small files costs as much as
 * writing a gigabyte, and a split by bytes left one worker with all the small files.
 */
export function batchStarts(files: readonly { size: number }[]): number[] {
  const starts = [0];
  let bytes = 0;
  let count = 0;
  for (let i = 0; i < files.length; i++) {
    bytes += files[i]!.size;
    count++;
    if (bytes >= BATCH_BYTES || count >= BATCH_FILES) {
      starts.push(i + 1);
      bytes = 0;
      count = 0;
    }
  }
  if (starts.at(-1) !== files.length) starts.push(files.length);
  return starts;
}

type WorkerOutcome = { restored: number[] } | { error: Error };

/**
 * Runs the workers, which take batches of the files in turn, and returns the ids of the files they wrote. Waits
 * until every worker has stopped, also when one fails or the job is cancelled, so nothing is written after this
 * returns or throws.
 */
async function runRestoreWorkers(root: string, snapshot: SnapshotRef, existing: 'keep' | 'overwrite', jobs: FileRestoreJob[],
  workers: number, signal: AbortSignal | undefined, advance: (files: number, bytes: number) => void): Promise<number[]> {
  const batches = batchStarts(jobs);
  const shared = new SharedArrayBuffer(8);
  const flag = new Int32Array(shared);
  const stop = (): void => { Atomics.store(flag, 0, 1); };
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop(); // its abort event has passed
  const url = workerScriptUrl(import.meta.url, './restore-worker.js');
  let outcomes: WorkerOutcome[];
  try {
    const count = Math.min(workers, batches.length - 1);
    outcomes = await Promise.all(Array.from({ length: count }, () => new Promise<WorkerOutcome>((resolvePromise) => {
      const data: RestoreWorkerData = { root, snapshot, existing, jobs, batches, shared };
      const worker = new Worker(url, { workerData: data });
      let outcome: WorkerOutcome | undefined;
      let exited = false;
      const settle = (): void => { if (outcome && exited) resolvePromise(outcome); };
      worker.on('message', (m: RestoreWorkerMessage) => {
        if (m.type === 'progress') {
          advance(m.files, m.bytes);
          return;
        }
        if (m.type === 'done') outcome ??= { restored: m.restored };
        else {
          outcome ??= { error: new CairnError((m.code as CairnErrorCode | undefined) ?? 'IO', m.message) };
          stop();
        }
        settle();
      });
      worker.on('error', (err) => {
        outcome ??= { error: err };
        stop();
      });
      worker.on('exit', (code) => {
        exited = true;
        outcome ??= { error: new Error(`restore worker exited with code ${code}`) };
        settle();
      });
    })));
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
  if (errors.length > 0) {
    if (signal?.aborted) throwIfCancelled(signal, 'restore');
    // One worker's failure stops the others (they report CANCELLED): report the failure itself.
    throw errors.find((e) => !(isCairnError(e) && e.code === 'CANCELLED')) ?? errors[0]!;
  }
  return outcomes.flatMap((o) => ('restored' in o ? o.restored : []));
}
