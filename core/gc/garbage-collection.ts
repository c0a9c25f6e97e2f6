import { existsSync, lstatSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import { groupPath, type BackupGroupRef } from '../backup/backup-names.js';
import { GC_PARKED_SUFFIX, PREFIX_DIR_COUNT, prefixDirName } from '../chunk-store/chunk-store.js';
import { DigestSet } from '../chunk-store/digest-set.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, isCairnError } from '../errors.js';
import { isRealDirectory } from '../fs/inside-root.js';
import type { StoreClock } from '../fs/store-clock.js';
import { openIndex } from '../index/index-reader.js';
import type { ChunkIndex } from '../index/index-format.js';
import { plural } from '../../contract/format.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns, throttle } from '../jobs/rate-meter.js';
import { removeDeadLocks } from '../locks/lock-cleanup.js';
import { acquireExclusiveLock } from '../locks/process-lock.js';
import { withLockAsync } from '../locks/with-lock.js';
import { MemoryLogger, type Logger } from '../log.js';
import { forgetSnapshot } from '../prune/forget.js';
import { makeReserve, RESERVE_FILE, withReserve } from '../datastore/space-reserve.js';
import {
  EMPTY_FOLDER_MARGIN_MS,
  EmptyPrefixes,
  readEmptyPrefixes,
  writeEmptyPrefixes,
} from '../chunk-store/empty-prefixes.js';
import { writeGcStatus, type GcStatus } from './gc-status.js';
import { checkExplicitStamps } from './stamp-check.js';
import { listGroups, walkStore, type StoreWalk } from './store-walk.js';
import { sweepPrefix, type SweepLimits } from './sweep.js';
import { SweepPlan, type PrefixVerdict } from './sweep-plan.js';

/** Below the cutoff by this much plus the filesystem's stamp granularity (clock reads vs. file stamps). */
export const GC_SAFETY_MARGIN_MS = 2_000;
/** Where explicit stamps do not stick: PBS's relatime grace, 24 h 5 min (spec 7.1). */
export const GC_FALLBACK_GRACE_MS = 86_700_000;
const INDEX_FILE = /\.(fidx|didx)$/;
/** A newest-first pass over a group starts again when its newest snapshot vanishes, at most this often. */
const GROUP_RETRIES = 10;
const MAX_WARNINGS_OF_A_KIND = 50;

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
 * Sweep: a chunk whose stamp is older than min(GC start, oldest live writer's registration) minus a margin is
 * deleted, through rename-aside and a second look, so a writer in another process that touches the chunk
 * meanwhile keeps it. Backups in any process run on during GC; GC never waits for them. Every time compared is
 * the store's clock.
 */
export async function collectGarbage(store: Datastore, options: GcOptions = {}): Promise<GcResult> {
  // On a full disk the lock is taken from the store's reserve, which GC makes again once it has freed room.
  const lock = withReserve(store.root, options.log, () =>
    acquireExclusiveLock(store.root, 'gc', 'garbage collection', store.log),
  );
  return withLockAsync(lock, () =>
    new GarbageCollection(store, { ...options, signal: anySignal(options.signal, lock.signal) }).run(),
  );
}

class GarbageCollection {
  private readonly log: MemoryLogger;
  private readonly clock: StoreClock;
  private readonly t0 = performance.now();
  private readonly progress: GcProgress = {
    phase: 'mark',
    indexFilesDone: 0,
    indexFilesTotal: 0,
    chunksMarked: 0,
    prefixesDone: 0,
    prefixesTotal: PREFIX_DIR_COUNT,
    removedChunks: 0,
    removedBytes: 0,
    pendingBytes: 0,
    elapsedMs: 0,
  };
  private readonly report: ReturnType<typeof throttle<GcProgress>>;
  private readonly turns = new EventLoopTurns();
  private limits: SweepLimits = { cutoff: 0, markedSince: 0 };
  /** Whether an empty chunk folder's times tell that it stayed empty, and by how much they may be off. */
  private folderTimesMove = false;
  private emptyMarginMs = 0;
  private emptiesFound?: EmptyPrefixes;
  private status!: GcStatus;
  private found!: StoreWalk;
  private readonly marked = new Set<string>();
  private readonly cache: DigestSet;
  private readonly warned = { missing: 0, unreadable: 0, symlinks: 0 };

  constructor(
    private readonly store: Datastore,
    private readonly options: GcOptions,
  ) {
    this.log = new MemoryLogger(options.log);
    this.clock = store.chunks.clock;
    this.report = throttle(
      (p: GcProgress) => options.onProgress?.({ ...p, elapsedMs: performance.now() - this.t0 }),
      options.progressIntervalMs ?? 100,
    );
    this.cache = new DigestSet(options.cacheCapacityLog2);
  }

  async run(): Promise<GcResult> {
    this.start();
    await this.mark();
    await this.sweep();
    this.removeLeftovers();
    return this.finish();
  }

  /** The cutoff, from the store's clock and the writers running now (docs/GC.md). */
  private start(): void {
    const cleaned = removeDeadLocks(this.store.root, this.log);
    if (cleaned.leases + cleaned.locks > 0)
      this.log.info(`removed ${cleaned.leases} lease file(s) and ${cleaned.locks} lock(s) that stopped processes left`);
    this.clock.measure();
    const started = this.clock.now();
    const startedLocal = Date.now();
    // Writers register before they touch any chunk, so the oldest live one bounds what GC may delete. Its
    // registration is the stamp its lease record got (the store's clock); one still starting counts as now.
    const writers = this.store.liveWriters();
    const oldestWriter = Math.min(started, ...writers.map((w) => w.registeredAtMs ?? started));
    const stamps = checkExplicitStamps(this.store.chunks.chunksDir, () => this.clock.now());
    const cutoff = stamps.ok
      ? oldestWriter - GC_SAFETY_MARGIN_MS - stamps.granularityMs
      : Math.min(started - GC_FALLBACK_GRACE_MS, oldestWriter - 300_000);
    // Stamps at or after this were set by this run's mark (or by a writer since): in use.
    this.limits = { cutoff, markedSince: started - stamps.granularityMs };
    this.folderTimesMove = stamps.folderTimesMove;
    this.emptyMarginMs = EMPTY_FOLDER_MARGIN_MS + stamps.granularityMs;
    const offset = started - startedLocal;
    if (Math.abs(offset) > GC_SAFETY_MARGIN_MS) {
      this.log.info(
        `the store's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} this computer's; GC goes by the store's`,
      );
    }
    if (!stamps.ok)
      this.log.warn(
        `timestamps set by Cairn do not stick on this filesystem (${stamps.detail}): unused chunks are kept for 24 hours and reported as pending`,
      );
    this.log.info(
      `GC started; ${writers.length === 0 ? 'no backup' : plural(writers.length, 'backup')} running; deleting unused chunks stamped before ${new Date(cutoff).toISOString()} (the store's clock)`,
    );
    this.status = {
      startedAt: new Date(startedLocal).toISOString(),
      durationMs: 0,
      cutoff: new Date(cutoff).toISOString(),
      stampCheck: stamps.detail,
      writersAtStart: writers.length,
      indexFileCount: 0,
      indexDataBytes: 0,
      diskChunks: 0,
      diskBytes: 0,
      removedChunks: 0,
      removedBytes: 0,
      pendingChunks: 0,
      pendingBytes: 0,
      removedBad: 0,
      stillBad: 0,
      removedTmp: 0,
      removedUnfinished: 0,
      keptOnSecondLook: 0,
      prefixesSkipped: 0,
      missingChunks: 0,
      unreadableIndexes: 0,
      cacheStats: { hits: 0, misses: 0 },
      dedupFactor: 1,
      completed: false,
    };
  }

  // ---- Phase 1: mark ----

  private async mark(): Promise<void> {
    this.log.info('GC phase 1: marking chunks in use');
    this.found = walkStore(this.store.root);
    this.refuseLayoutSymlinks();
    this.log.info(`found ${this.found.indexes.size} index files`);
    this.progress.indexFilesTotal = this.found.indexes.size;
    this.report.push(this.progress);
    for (const group of listGroups(this.store.root)) await this.markGroup(group);
    let strays = 0;
    for (const path of this.found.indexes) {
      if (this.marked.has(path) || !existsSync(path)) continue;
      if (strays++ < 10) this.log.warn(`index ${path} is outside the expected layout; marking it anyway`);
      await this.markIndex(path);
    }
    if (strays > 0) this.log.warn(`found ${strays} index file(s) outside the expected layout`);
    if (this.status.missingChunks > MAX_WARNINGS_OF_A_KIND) {
      this.log.warn(
        `${this.status.missingChunks} chunks are missing in all; run verify to see which snapshots they affect`,
      );
    }
    this.report.flush(this.progress);
    throwIfCancelled(this.options.signal, 'garbage collection');
  }

  /** Snapshots behind a symlink cannot be marked without following it: GC deletes nothing rather than their chunks. */
  private refuseLayoutSymlinks(): void {
    const { layoutSymlinks } = this.found;
    if (!isRealDirectory(this.store.chunks.chunksDir)) layoutSymlinks.unshift(this.store.chunks.chunksDir);
    if (layoutSymlinks.length === 0) return;
    const shown = layoutSymlinks
      .slice(0, 3)
      .map((p) => relative(this.store.root, p))
      .join(', ');
    throw new CairnError(
      'PATH_NOT_ALLOWED',
      `GC stopped before deleting anything: ${shown}${layoutSymlinks.length > 3 ? ` and ${layoutSymlinks.length - 3} more` : ''} ` +
        `in ${this.store.root} ${layoutSymlinks.length === 1 ? 'is a symlink' : 'are symlinks'}, and GC never follows a symlink inside a datastore, ` +
        'so it cannot tell which chunks the snapshots behind it need. Move the folder into the store in place of the link, or remove the link',
    );
  }

  /** Newest first: a backup that finishes meanwhile and a prune of its base cannot hide chunks together. */
  private async markGroup(group: BackupGroupRef): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      throwIfCancelled(this.options.signal, 'garbage collection');
      const snapshots = this.store.listSnapshots(group).reverse();
      let restart = false;
      outer: for (const [k, snap] of snapshots.entries()) {
        for (const file of snap.files.filter((f) => INDEX_FILE.test(f))) {
          const vanished = !(await this.markIndex(join(this.store.root, snap.path, file)));
          if (vanished && k === 0 && attempt < GROUP_RETRIES) {
            restart = true;
            break outer;
          }
        }
      }
      if (!restart) return;
      this.log.info(`the newest snapshot of ${groupPath(group)} vanished while marking; marking the group again`);
    }
  }

  /** Marks one index; false if it vanished (forgotten meanwhile). */
  private async markIndex(path: string): Promise<boolean> {
    if (this.marked.has(path)) return true;
    const index = this.openIndex(path);
    if (index === 'vanished') return false;
    this.marked.add(path);
    if (index === 'unreadable') return true;
    if (!this.found.indexes.has(path)) this.progress.indexFilesTotal++; // created after the walk
    this.status.indexFileCount++;
    this.status.indexDataBytes += index.size;
    for (let i = 0; i < index.chunkCount; i++) {
      this.markChunk(index.digest(i), path);
      if ((i & 1023) === 1023) {
        this.report.push(this.progress);
        await this.pace();
      }
    }
    this.progress.indexFilesDone++;
    this.report.push(this.progress);
    await this.pace();
    return true;
  }

  /**
   * An index nobody can use (damaged, or not a regular file) cannot stop GC: no restore, browse or verify can
   * read it, so it is passed over with a warning that says how to remove it. Other errors (a permission
   * problem) stop GC before anything is deleted.
   */
  private openIndex(path: string): ChunkIndex | 'vanished' | 'unreadable' {
    try {
      return openIndex(path);
    } catch (err) {
      if (!existsSync(path) && !lstatSync(path, { throwIfNoEntry: false })) return 'vanished';
      if (!isCairnError(err, 'CORRUPT')) throw err;
      this.status.unreadableIndexes++;
      if (this.warned.unreadable++ < MAX_WARNINGS_OF_A_KIND) {
        const snapshot = relative(this.store.root, join(path, '..'));
        this.log.warn(
          `${(err as Error).message}. Nothing can be restored from it, so GC keeps none of its chunks for it; ` +
            `remove the snapshot with 'cairn forget ${this.store.root} ${snapshot}' (or Forget in the app)`,
        );
      }
      return 'unreadable';
    }
  }

  private markChunk(digest: Buffer, indexPath: string): void {
    const { status } = this;
    if (this.cache.has(digest)) {
      status.cacheStats.hits++;
      return;
    }
    status.cacheStats.misses++;
    this.cache.add(digest);
    if (!this.store.chunks.touch(digest) && !this.recoverMissing(digest)) {
      status.missingChunks++;
      if (this.warned.missing++ < MAX_WARNINGS_OF_A_KIND)
        this.log.warn(`chunk ${digest.toString('hex')} is missing, required by ${indexPath}`);
    }
    this.progress.chunksMarked++;
  }

  /**
   * A missing chunk may be parked by a GC that died mid-sweep: put it back and mark it. Otherwise keep its
   * `.bad` copies alive while an index still needs it (spec 7.2).
   */
  private recoverMissing(digest: Buffer): boolean {
    const path = this.store.chunks.chunkPath(digest);
    try {
      renameSync(`${path}${GC_PARKED_SUFFIX}`, path);
      return this.store.chunks.touch(digest);
    } catch {
      /* not parked */
    }
    const now = new Date(this.clock.now());
    for (let n = 0; n <= 9; n++) {
      try {
        utimesSync(`${path}.${n}.bad`, now, now);
      } catch {
        /* none */
      }
    }
    return false;
  }

  // ---- Phase 2: sweep ----

  private async sweep(): Promise<void> {
    this.log.info('GC phase 2: sweeping unused chunks');
    const plan = SweepPlan.open(this.store.chunks.chunksDir, this.skippableEmpties(), this.emptyMarginMs);
    this.progress.phase = 'sweep';
    this.report.flush(this.progress);
    const { status, progress } = this;
    const empties = new EmptyPrefixes(this.clock.now());
    for (let p = 0; p < PREFIX_DIR_COUNT; p++) {
      throwIfCancelled(this.options.signal, 'garbage collection');
      this.sweepOne(p, plan.verdict(p), empties);
      progress.prefixesDone = p + 1;
      progress.removedChunks = status.removedChunks;
      progress.removedBytes = status.removedBytes;
      progress.pendingBytes = status.pendingBytes;
      this.report.push(progress);
      await this.pace();
    }
    this.emptiesFound = empties;
    if (status.prefixesSkipped > 0)
      this.log.info(`skipped ${status.prefixesSkipped} chunk folders that stayed empty since the last GC`);
  }

  /** The last record of empty folders, where it can be trusted (docs/GC.md "Sweep"). */
  private skippableEmpties(): EmptyPrefixes | undefined {
    if (!this.folderTimesMove) return undefined;
    return readEmptyPrefixes(this.store.root, this.clock.now(), this.log);
  }

  private sweepOne(prefix: number, verdict: PrefixVerdict, empties: EmptyPrefixes): void {
    const chunksDir = this.store.chunks.chunksDir;
    if (verdict === 'skip') {
      this.status.prefixesSkipped++;
      empties.add(prefix);
    } else if (verdict === 'sweep') {
      if (sweepPrefix(chunksDir, prefix, this.limits, this.status) === 0) empties.add(prefix);
    } else if (verdict === 'refused' && this.warned.symlinks++ < MAX_WARNINGS_OF_A_KIND) {
      this.log.warn(
        `did not sweep ${join(chunksDir, prefixDirName(prefix))}: it is a symlink, and GC never follows a symlink inside a datastore; nothing behind it was deleted`,
      );
    }
  }

  /** Crash leftovers older than the cutoff: abandoned unfinished snapshots, tmp files, interrupted forgets. */
  private removeLeftovers(): void {
    this.status.removedUnfinished = this.removeAbandonedSnapshots();
    for (const path of this.found.leftovers) {
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st || st.mtimeMs >= this.limits.cutoff) continue;
      rmSync(path, { recursive: true, force: true });
      this.status.removedTmp++;
    }
    this.report.flush(this.progress);
  }

  /**
   * Unfinished snapshots that no backup holds and that are older than the cutoff were left by a backup that
   * crashed (a live backup holds its snapshot from the moment it creates it, after its lease started).
   */
  private removeAbandonedSnapshots(): number {
    let removed = 0;
    for (const group of listGroups(this.store.root)) {
      for (const snap of this.store.listSnapshots(group)) {
        if (snap.finished) continue;
        const st = lstatSync(this.store.snapshotDir(snap), { throwIfNoEntry: false });
        if (!st || st.mtimeMs >= this.limits.cutoff) continue;
        try {
          forgetSnapshot(this.store, snap, { unfinishedOnly: true });
          removed++;
          this.log.info(`removed ${snap.path}, left unfinished by a backup that stopped`);
        } catch (err) {
          // Protected by an older Cairn, which let unfinished snapshots be protected: kept, and GC goes on.
          if (isCairnError(err, 'PROTECTED'))
            this.log.warn(
              `kept ${snap.path}: left unfinished by a backup that stopped, but protected; unprotect it to let GC remove it`,
            );
          else if (isCairnError(err, 'PATH_NOT_ALLOWED')) this.log.warn((err as Error).message);
          else if (!isCairnError(err, 'LOCKED') && !isCairnError(err, 'NOT_FOUND')) throw err;
        }
      }
    }
    return removed;
  }

  private finish(): GcResult {
    const { status } = this;
    status.durationMs = Math.round(performance.now() - this.t0);
    status.dedupFactor = status.diskBytes > 0 ? status.indexDataBytes / status.diskBytes : 1;
    status.completed = true;
    this.log.info(
      `GC done: removed ${status.removedChunks} chunks (${status.removedBytes} bytes), ${status.pendingChunks} pending, ${status.diskChunks} in use`,
    );
    writeGcStatus(this.store.root, status, this.log);
    if (this.emptiesFound) writeEmptyPrefixes(this.store.root, this.emptiesFound, this.log);
    if (makeReserve(this.store.root)) this.log.info(`made the store's reserve of 1 MiB again (${RESERVE_FILE})`);
    return { ...status, warnings: this.log.warnings() };
  }

  /**
   * Lock refresh timers and progress need the event loop; a long synchronous stretch would starve them. A
   * promise only when a turn is due (every 50 ms), then a look at the cancel signal.
   */
  private pace(): Promise<void> | undefined {
    return this.turns.due()?.then(() => throwIfCancelled(this.options.signal, 'garbage collection'));
  }
}
