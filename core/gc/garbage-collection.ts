import { existsSync, lstatSync, readdirSync, renameSync, rmSync, unlinkSync, utimesSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_TYPES, groupPath, isValidBackupId, type BackupGroupRef } from '../backup/backup-names.js';
import { chunkFileKind, GC_PARKED_SUFFIX, PREFIX_DIR_COUNT, prefixDirName } from '../chunk-store/chunk-store.js';
import { DigestSet } from '../chunk-store/digest-set.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError, isCairnError } from '../errors.js';
import { CLOCK_PROBE_PREFIX } from '../fs/store-clock.js';
import { openIndex } from '../index/index-reader.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { throttle, yieldToEventLoop } from '../jobs/rate-meter.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { MemoryLogger, type Logger } from '../log.js';
import { FORGOTTEN_PREFIX, forgetSnapshot } from '../prune/forget.js';
import { writeGcStatus, type GcStatus } from './gc-status.js';
import { checkExplicitStamps, type StampCheck } from './stamp-check.js';

/** Below the cutoff by this much plus the filesystem's stamp granularity (clock reads vs. file stamps). */
export const GC_SAFETY_MARGIN_MS = 2_000;
/** Where explicit stamps do not stick: PBS's relatime grace, 24 h 5 min (spec 7.1). */
export const GC_FALLBACK_GRACE_MS = 86_700_000;
const INDEX_FILE = /\.(fidx|didx)$/;
const TMP_LEFTOVER = /\.tmp_[A-Za-z0-9_-]+$/;
/** A newest-first pass over a group starts again when its newest snapshot vanishes, at most this often. */
const GROUP_RETRIES = 10;
const MAX_MISSING_WARNINGS = 50;

export interface GcProgress {
  phase: 'mark' | 'sweep';
  indexFilesDone: number;
  indexFilesTotal: number;
  chunksMarked: number;
  prefixesDone: number;
  prefixesTotal: number;
  removedChunks: number;
  removedBytes: number;
  pendingBytes: number;
  elapsedMs: number;
}

export interface GcOptions {
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: GcProgress) => void;
  progressIntervalMs?: number;
  /** Slots of the marking cache, as a power of two (default 2^20: 32 MiB). */
  cacheCapacityLog2?: number;
}

export type GcResult = GcStatus & { warnings: string[] };

/**
 * Mark and sweep (spec 7, docs/GC.md). Mark: every chunk named by any index file gets its stamp set to now.
 * Sweep: a chunk whose stamp is older than min(GC start, oldest live writer's start) minus a margin is
 * deleted, through rename-aside and a second look, so a writer in another process that touches the chunk
 * meanwhile keeps it. Backups in any process run on during GC; GC never waits for them.
 */
export async function collectGarbage(store: Datastore, options: GcOptions = {}): Promise<GcResult> {
  const lock = acquireExclusiveLock(store.root, 'gc', 'garbage collection', store.log);
  try {
    return await runGc(store, { ...options, signal: anySignal(options.signal, lock.signal) });
  } finally {
    lock.release();
  }
}

async function runGc(store: Datastore, options: GcOptions): Promise<GcResult> {
  const memoryLog = new MemoryLogger();
  const log: Logger = {
    info: (m) => { memoryLog.info(m); options.log?.info(m); },
    warn: (m) => { memoryLog.warn(m); options.log?.warn(m); },
  };
  // Every time GC compares is the store's (store-clock.ts): chunk stamps, writers' registrations, its own start.
  const clock = store.chunks.clock;
  clock.measure();
  const started = clock.now();
  const startedLocal = Date.now();
  const t0 = performance.now();
  const signal = options.signal;
  const progress: GcProgress = {
    phase: 'mark', indexFilesDone: 0, indexFilesTotal: 0, chunksMarked: 0, prefixesDone: 0, prefixesTotal: PREFIX_DIR_COUNT,
    removedChunks: 0, removedBytes: 0, pendingBytes: 0, elapsedMs: 0,
  };
  const report = throttle((p: GcProgress) => options.onProgress?.({ ...p, elapsedMs: performance.now() - t0 }), options.progressIntervalMs ?? 100);
  let lastYield = performance.now();
  const pace = async (): Promise<void> => {
    // Lock refresh timers and progress need the event loop; a long synchronous stretch would stale our lock.
    if (performance.now() - lastYield < 50) return;
    await yieldToEventLoop();
    lastYield = performance.now();
    throwIfCancelled(signal, 'garbage collection');
  };

  // Writers register before they touch any chunk, so the oldest live one bounds what GC may delete. Its
  // registration is the stamp its lease record got (the store's clock); one still starting counts as now.
  const writers = store.liveWriters();
  const oldestWriter = Math.min(started, ...writers.map((w) => w.registeredAtMs ?? started));
  const stamps: StampCheck = checkExplicitStamps(store.chunks.chunksDir, () => clock.now());
  const cutoff = stamps.ok
    ? oldestWriter - GC_SAFETY_MARGIN_MS - stamps.granularityMs
    : Math.min(started - GC_FALLBACK_GRACE_MS, oldestWriter - 300_000);
  /** Stamps at or after this were set by this run's mark (or by a writer since): in use. */
  const markedSince = started - stamps.granularityMs;
  const offset = started - startedLocal;
  if (Math.abs(offset) > GC_SAFETY_MARGIN_MS) {
    log.info(`the store's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} this computer's; GC goes by the store's`);
  }
  if (!stamps.ok) log.warn(`timestamps set by Cairn do not stick on this filesystem (${stamps.detail}): unused chunks are kept for 24 hours and reported as pending`);
  log.info(`GC started; ${writers.length} backup(s) running; deleting unused chunks stamped before ${new Date(cutoff).toISOString()} (the store's clock)`);

  const status: GcStatus = {
    startedAt: new Date(startedLocal).toISOString(), durationMs: 0, cutoff: new Date(cutoff).toISOString(), stampCheck: stamps.detail,
    writersAtStart: writers.length, indexFileCount: 0, indexDataBytes: 0, diskChunks: 0, diskBytes: 0, removedChunks: 0,
    removedBytes: 0, pendingChunks: 0, pendingBytes: 0, removedBad: 0, stillBad: 0, removedTmp: 0, removedUnfinished: 0, keptOnSecondLook: 0,
    missingChunks: 0,
    cacheStats: { hits: 0, misses: 0 }, dedupFactor: 1, completed: false,
  };

  // ---- Phase 1: mark ----
  log.info('GC phase 1: marking chunks in use');
  const found = findIndexFiles(store.root, log);
  progress.indexFilesTotal = found.indexes.size;
  report.push(progress);
  const marked = new Set<string>();
  const cache = new DigestSet(options.cacheCapacityLog2);
  let missingWarnings = 0;

  /** Marks one index; false if it vanished (forgotten meanwhile). */
  const markIndex = async (path: string): Promise<boolean> => {
    if (marked.has(path)) return true;
    let index;
    try {
      index = openIndex(path);
    } catch (err) {
      if (!existsSync(path)) return false;
      if (isCairnError(err, 'CORRUPT')) {
        throw new CairnError('CORRUPT', `GC stopped before deleting anything: ${(err as Error).message}. Verify and forget that snapshot, then run GC again`);
      }
      throw err;
    }
    marked.add(path);
    if (!found.indexes.has(path)) progress.indexFilesTotal++; // created after the walk
    status.indexFileCount++;
    status.indexDataBytes += index.size;
    for (let i = 0; i < index.chunkCount; i++) {
      const digest = index.digest(i);
      if (cache.has(digest)) {
        status.cacheStats.hits++;
        continue;
      }
      status.cacheStats.misses++;
      cache.add(digest);
      if (!store.chunks.touch(digest) && !recoverMissing(store, digest)) {
        status.missingChunks++;
        if (missingWarnings++ < MAX_MISSING_WARNINGS) log.warn(`chunk ${digest.toString('hex')} is missing, required by ${path}`);
      }
      progress.chunksMarked++;
      if ((i & 1023) === 1023) {
        report.push(progress);
        await pace();
      }
    }
    progress.indexFilesDone++;
    report.push(progress);
    await pace();
    return true;
  };

  for (const group of listGroups(store.root)) {
    for (let attempt = 0; ; attempt++) {
      throwIfCancelled(signal, 'garbage collection');
      // Newest first: a backup that finishes meanwhile and a prune of its base cannot hide chunks together.
      const snapshots = store.listSnapshots(group).reverse();
      let restart = false;
      for (const [k, snap] of snapshots.entries()) {
        for (const file of snap.files.filter((f) => INDEX_FILE.test(f))) {
          const path = join(store.root, snap.path, file);
          if (!(await markIndex(path)) && k === 0 && attempt < GROUP_RETRIES) restart = true;
          if (restart) break;
        }
        if (restart) break;
      }
      if (!restart) break;
      log.info(`the newest snapshot of ${groupPath(group)} vanished while marking; marking the group again`);
    }
  }
  let strays = 0;
  for (const path of found.indexes) {
    if (marked.has(path) || !existsSync(path)) continue;
    if (strays++ < 10) log.warn(`index ${path} is outside the expected layout; marking it anyway`);
    await markIndex(path);
  }
  if (strays > 0) log.warn(`found ${strays} index file(s) outside the expected layout`);
  if (status.missingChunks > MAX_MISSING_WARNINGS) log.warn(`${status.missingChunks} chunks are missing in all; run verify to see which snapshots they affect`);
  report.flush(progress);
  throwIfCancelled(signal, 'garbage collection');

  // ---- Phase 2: sweep ----
  log.info('GC phase 2: sweeping unused chunks');
  progress.phase = 'sweep';
  report.flush(progress);
  const chunksDir = store.chunks.chunksDir;
  for (let p = 0; p < PREFIX_DIR_COUNT; p++) {
    throwIfCancelled(signal, 'garbage collection');
    const dir = join(chunksDir, prefixDirName(p));
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw ioError('list chunk directory', dir, err);
    }
    for (const name of names) {
      throwIfCancelled(signal, 'garbage collection');
      sweepEntry(join(dir, name), name, cutoff, markedSince, status);
    }
    progress.prefixesDone = p + 1;
    progress.removedChunks = status.removedChunks;
    progress.removedBytes = status.removedBytes;
    progress.pendingBytes = status.pendingBytes;
    report.push(progress);
    await pace();
  }
  status.removedUnfinished = removeAbandonedSnapshots(store, cutoff, log);
  for (const path of found.leftovers) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st || st.mtimeMs >= cutoff) continue;
    rmSync(path, { recursive: true, force: true });
    status.removedTmp++;
  }
  report.flush(progress);

  status.durationMs = Math.round(performance.now() - t0);
  status.dedupFactor = status.diskBytes > 0 ? status.indexDataBytes / status.diskBytes : 1;
  status.completed = true;
  log.info(`GC done: removed ${status.removedChunks} chunks (${status.removedBytes} bytes), ${status.pendingChunks} pending, ${status.diskChunks} in use`);
  writeGcStatus(store.root, status, log);
  return { ...status, warnings: memoryLog.lines.filter((l) => l.level === 'warn').map((l) => l.message) };
}

/**
 * A missing chunk may be parked by a GC that died mid-sweep: put it back and mark it. Otherwise keep its
 * `.bad` copies alive while an index still needs it (spec 7.2).
 */
function recoverMissing(store: Datastore, digest: Buffer): boolean {
  const path = store.chunks.chunkPath(digest);
  try {
    renameSync(`${path}${GC_PARKED_SUFFIX}`, path);
    return store.chunks.touch(digest);
  } catch { /* not parked */ }
  const now = new Date();
  for (let n = 0; n <= 9; n++) {
    try { utimesSync(`${path}.${n}.bad`, now, now); } catch { /* none */ }
  }
  return false;
}


/**
 * One directory entry of the sweep. A chunk to delete is first renamed aside, then looked at again: a
 * writer that touched it before the rename left a fresh stamp (its touch is followed by a stat that sees
 * the file, so the touch landed before the rename), and the chunk goes back; a writer that comes after
 * the rename finds no file and writes the chunk anew. Either way no chunk a writer counts on is lost.
 */
function sweepEntry(path: string, name: string, cutoff: number, markedSince: number, status: GcStatus): void {
  const kind = chunkFileKind(name);
  if (!kind) return;
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) return;
  const isParked = kind === 'parked';
  if (kind === 'bad') {
    if (st.mtimeMs < cutoff) {
      unlinkOrThrow(path);
      status.removedBad++;
      status.removedBytes += st.size;
    } else {
      status.stillBad++;
    }
    return;
  }
  if (kind === 'tmp') {
    // A live writer's tmp file is younger than the cutoff; an older one is a crash leftover.
    if (st.mtimeMs < cutoff) {
      unlinkOrThrow(path);
      status.removedTmp++;
    }
    return;
  }
  const chunkPath = isParked ? path.slice(0, -GC_PARKED_SUFFIX.length) : path;
  if (st.mtimeMs >= cutoff) {
    if (isParked) {
      // Left by a GC that died after a writer refreshed it: put it back unless a new copy exists.
      if (existsSync(chunkPath)) unlinkOrThrow(path);
      else renameSync(path, chunkPath);
    }
    countKept(status, st.size, st.mtimeMs >= markedSince);
    return;
  }
  const parked = isParked ? path : `${path}${GC_PARKED_SUFFIX}`;
  if (!isParked) {
    try {
      renameSync(path, parked);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw ioError('move aside chunk', path, err);
    }
  }
  const second = lstatSync(parked, { throwIfNoEntry: false });
  if (!second) return;
  if (second.mtimeMs >= cutoff) {
    if (existsSync(chunkPath)) unlinkOrThrow(parked);
    else renameSync(parked, chunkPath);
    status.keptOnSecondLook++;
    countKept(status, second.size, true);
    return;
  }
  unlinkOrThrow(parked);
  status.removedChunks++;
  status.removedBytes += second.size;
}

/**
 * Unfinished snapshots that no backup holds and that are older than the cutoff were left by a backup that
 * crashed (a live backup holds its snapshot from the moment it creates it, after its lease started).
 */
function removeAbandonedSnapshots(store: Datastore, cutoff: number, log: Logger): number {
  let removed = 0;
  for (const group of listGroups(store.root)) {
    for (const snap of store.listSnapshots(group)) {
      if (snap.finished) continue;
      const st = lstatSync(store.snapshotDir(snap), { throwIfNoEntry: false });
      if (!st || st.mtimeMs >= cutoff) continue;
      try {
        forgetSnapshot(store, snap, { unfinishedOnly: true });
        removed++;
        log.info(`removed ${snap.path}, left unfinished by a backup that stopped`);
      } catch (err) {
        // Protected by an older Cairn, which let unfinished snapshots be protected: kept, and GC goes on.
        if (isCairnError(err, 'PROTECTED')) log.warn(`kept ${snap.path}: left unfinished by a backup that stopped, but protected; unprotect it to let GC remove it`);
        else if (!isCairnError(err, 'LOCKED') && !isCairnError(err, 'NOT_FOUND')) throw err;
      }
    }
  }
  return removed;
}

function countKept(status: GcStatus, size: number, inUse: boolean): void {
  if (inUse) {
    status.diskChunks++;
    status.diskBytes += size;
  } else {
    status.pendingChunks++;
    status.pendingBytes += size;
  }
}

function unlinkOrThrow(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw ioError('delete', path, err);
  }
}

function listGroups(root: string): BackupGroupRef[] {
  const groups: BackupGroupRef[] = [];
  for (const type of BACKUP_TYPES) {
    for (const entry of readDir(join(root, type))) {
      if (entry.isDirectory() && isValidBackupId(entry.name)) groups.push({ type, id: entry.name });
    }
  }
  return groups;
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CairnError('IO', `GC stopped before deleting anything: permission denied reading ${dir}`);
    }
    throw ioError('list', dir, err);
  }
}

/**
 * Every index file in the store (hidden entries skipped, symlinks not followed, vanished entries ignored,
 * unreadable directories fatal), plus crash leftovers to clean: index tmp files and forgotten snapshots
 * whose removal was interrupted.
 */
function findIndexFiles(root: string, log: Logger): { indexes: Set<string>; leftovers: string[] } {
  const indexes = new Set<string>();
  const leftovers: string[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const entry of readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.')) {
        if (entry.name.startsWith(FORGOTTEN_PREFIX) || (depth >= 3 && TMP_LEFTOVER.test(entry.name))
          || (depth === 0 && entry.name.startsWith(CLOCK_PROBE_PREFIX))) leftovers.push(path);
        continue;
      }
      if (entry.isDirectory()) {
        if (entry.name === 'lost+found' && depth <= 1) continue;
        walk(path, depth + 1);
      } else if (entry.isFile()) {
        if (INDEX_FILE.test(entry.name)) indexes.add(path);
        else if (TMP_LEFTOVER.test(entry.name) && depth >= 3) leftovers.push(path);
      }
    }
  };
  walk(root, 0);
  log.info(`found ${indexes.size} index files`);
  return { indexes, leftovers };
}
