import { lchownSync, linkSync, lstatSync, lutimesSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError, ioError, isCairnError, type CairnErrorCode } from '../errors.js';
import { HeldDirectories } from '../fs/held-directories.js';
import { assertRestoreTarget } from '../fs/inside-root.js';
import { makeDirectories } from '../fs/make-directories.js';
import { removeDeadProcessTmps } from '../fs/owned-tmp.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns, RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import { workerScriptUrl } from '../jobs/worker-url.js';
import { MemoryLogger, type Logger } from '../log.js';
import {
  EntryKind,
  isSafeName,
  type ArchiveEntry,
  type DirectoryEntry,
  type FileEntry,
  type SymlinkEntry,
} from './archive-format.js';
import { isChunkDamage, keepDamagedCopy } from './damaged-copy.js';
import { FolderAttributes } from './folder-attributes.js';
import {
  isRoot,
  nsToTime,
  restoreFile,
  restoreFileYielding,
  type ExistingPolicy,
  type FileRestoreJob,
} from './file-writer.js';
import { FolderArchiveReader } from './folder-reader.js';
import { sameSizeAndTime } from './source-stat.js';
import { displayName } from './names.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { RestoreBatch, RestoreWorkerData, RestoreWorkerMessage } from './restore-worker.js';
import { ChunkGate, INACTIVE, MAX_CONSUMERS, type ChunkFeed } from './chunk-gate.js';

export interface FolderRestoreProgress extends RateSample {
  phase: 'restoring';
  filesTotal: number;
  bytesTotal: number;
  filesDone: number;
  bytesDone: number;
  currentPath: string;
}

/** An entry that could not be restored (and, for a folder, nothing in it), and why. */
export interface RestoreFailure {
  /** The path in the snapshot, as shown ('/' for the root). */
  path: string;
  message: string;
}

export interface FolderRestoreResult extends FolderRestoreProgress {
  target: string;
  /** Existing files, hardlinks and symlinks left alone because overwrite was not asked for. */
  conflicts: number;
  /**
   * Of those, the ones there as backed up (a file of the same size and mtime, a symlink to the same target):
   * nothing of them is missing. The rest differ, and overwrite would replace them.
   */
  keptSame: number;
  /**
   * With overwrite: the existing entries that differed (in size or date, or a symlink's target) and were
   * replaced, each logged; the ones there as backed up are written again, and not counted.
   */
  replaced: number;
  /** Of filesDone and bytesDone: the files (and hardlinks) kept as they were, not written. */
  filesKept: number;
  bytesKept: number;
  /** Files and hardlinks written, and their bytes. */
  filesRestored: number;
  bytesRestored: number;
  /** What could not be restored (the first 1000; `failedCount` counts them all); everything else was. */
  failed: RestoreFailure[];
  failedCount: number;
  /** The existing paths kept (the first 1000; `conflicts` counts them all): a count to show, not a warning each. */
  keptPaths: string[];
  warnings: string[];
}

export interface FolderRestoreOptions {
  /**
   * What to restore: '' (everything), a folder (its contents go into the target) or a file; as shown, or as the
   * names' exact bytes.
   */
  path?: string | readonly Uint8Array[];
  overwrite?: boolean;
  /** A file with a damaged chunk is still named as not restored; its readable rest is kept as `<name>.damaged`. */
  keepDamaged?: boolean;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: FolderRestoreProgress) => void;
  progressIntervalMs?: number;
  /**
   * False for a staging folder whose files are moved elsewhere (an in-place restore): its folders get no owner,
   * mode or times, so a read-only one cannot keep its files in or itself from being removed.
   */
  folderAttributes?: boolean;
  /** Worker threads writing files (0: all on the job's thread). */
  workers?: number;
  /** The key of an encrypted snapshot. */
  crypt?: CryptConfig;
  /**
   * Where chunks come from that are not in the store yet (a remote's cache): told every file's range as it is
   * planned, it fetches them ahead of the writers, who wait for each. The restore closes it when it ends.
   */
  chunkFeed?: ChunkFeed;
}

/** Below this many files, threads cost more than they save. */
const MIN_FILES_FOR_WORKERS = 64;
/**
 * With a chunk feed, workers also for fewer files of at least this many bytes: a worker writes a file while its
 * chunks arrive, this thread only once it holds them all.
 */
const MIN_FED_BYTES_FOR_WORKERS = 8 * 1024 * 1024;
const MAX_FAILURES_LISTED = 1000;

/**
 * Restores a snapshot, a folder of it or one file into `target`. Contents are checked (a large file's chunks by
 * their digests, a small file by its SHA-256; every chunk's CRC or tag), modes and mtimes restored, symlinks and
 * hardlinks recreated. Nothing is written outside the target: names are validated, and every write goes into a
 * folder this restore created or found, reached from its parent's descriptor, never through a symlink
 * (fs/held-directories.ts). Files are written to tmp siblings and renamed, by worker threads in payload order;
 * folders first, the attributes of each once it is complete (folder-attributes.ts).
 *
 * An entry that cannot be restored (a symlink or a file in a folder's place, a name the filesystem refuses, a
 * damaged chunk) is listed in `failed` with why, and the restore goes on with the rest.
 *
 * Cancelling: until the last file and hardlink are written, a cancel stops the restore at the next file and
 * it fails with CANCELLED (files already written stay, no tmp file is left, only folders whose entries were all
 * written have their attributes). A cancel that arrives after that changes nothing: everything is there, so the
 * folder attributes are set and the restore reports success.
 */
export async function restoreFolder(
  store: Datastore,
  ref: SnapshotRef,
  target: string,
  options: FolderRestoreOptions = {},
): Promise<FolderRestoreResult> {
  const feed = options.chunkFeed;
  try {
    assertRestoreTarget(store.root, target);
    // Held for the whole restore: the snapshot cannot be forgotten (or pruned) under it.
    const lock = store.lockSnapshotShared(ref, `restore of ${snapshotPath(ref)}`);
    try {
      return await new FolderRestore(store, ref, resolve(target), {
        ...options,
        signal: anySignal(options.signal, lock.signal, feed?.signal),
      }).run();
    } finally {
      lock.release();
    }
  } catch (err) {
    // The feed's failure (the service went away) is what stopped the restore, not a cancel.
    if (feed?.signal.aborted && !options.signal?.aborted) throw feed.signal.reason;
    throw err;
  } finally {
    await feed?.close();
  }
}

interface PlannedHardlink {
  entry: FileEntry;
  dir: number;
  archivePath: string;
}

class FolderRestore {
  private readonly reader: FolderArchiveReader;
  /** The job's log, every line also kept: the result lists the warnings. */
  private readonly log: MemoryLogger;
  private readonly existing: ExistingPolicy;
  private dirs!: HeldDirectories;
  private readonly files: FileRestoreJob[] = [];
  /** The archive path of each file as shown (displayName is one to one), for hardlinks to find their first link. */
  private readonly fileKeys: string[] = [];
  private readonly hardlinks: PlannedHardlink[] = [];
  private attributes!: FolderAttributes;
  private readonly failed: RestoreFailure[] = [];
  private readonly keptPaths: string[] = [];
  private failedCount = 0;
  private conflicts = 0;
  private keptSame = 0;
  private replaced = 0;
  private filesKept = 0;
  private bytesKept = 0;
  private filesRestored = 0;
  private bytesRestored = 0;
  /** While planning (all synchronous work), a turn of the event loop every 50 ms, so that a cancel arrives. */
  private readonly turns = new EventLoopTurns();
  /** Workers writing while the restore plans (a restore of many files, or from a remote). */
  private streaming: StreamingWorkers | undefined;
  private progress!: FolderRestoreProgress;
  private meter!: RateMeter;
  private report!: ReturnType<typeof throttle<FolderRestoreProgress>>;

  constructor(
    store: Datastore,
    ref: SnapshotRef,
    private readonly dest: string,
    private readonly options: FolderRestoreOptions,
  ) {
    this.reader = new FolderArchiveReader(store.openSnapshot(ref, { crypt: options.crypt }));
    this.log = new MemoryLogger(options.log);
    this.existing = options.overwrite ? 'overwrite' : 'keep';
  }

  async run(): Promise<FolderRestoreResult> {
    const selected = this.reader.locate(this.options.path ?? '');
    if (lstatOrThrow(this.dest)?.isSymbolicLink()) {
      throw new CairnError(
        'PATH_NOT_ALLOWED',
        `refusing to restore into ${this.dest}: it is a symlink (give the folder it leads to instead)`,
      );
    }
    try {
      makeDirectories(this.dest);
    } catch (err) {
      throw ioError('create the restore target', this.dest, err);
    }
    this.dirs = new HeldDirectories(this.dest);
    this.attributes = new FolderAttributes(this.dirs, this.log);
    // A restore of many files (and any fed from a remote): its workers load while it plans, and write what it
    // has planned while it plans on (creating thousands of folders takes a while, and so does fetching).
    const feed = this.options.chunkFeed;
    if ((this.options.workers ?? 2) > 0 && (feed || this.worthStreaming(selected.entry))) {
      this.startProgress();
      this.streaming = new StreamingWorkers(
        new SpareWorkers(Math.min(this.options.workers ?? 2, MAX_CONSUMERS - 1)),
        this.workerData(feed),
        this.dirs,
        feed && new ChunkGate(feed.gate),
        this.options.signal,
        this.workerProgress,
      );
    }
    try {
      const selectedPath = `/${selected.names.map(displayName).join('/')}`;
      if (selected.entry.kind === EntryKind.Directory)
        await this.planChildren(selected.entry, 0, selected.names.length > 0 ? selectedPath : '');
      else await this.planEntry(selected.entry, 0, selectedPath);
      throwIfCancelled(this.options.signal, 'restore');
      this.options.chunkFeed?.seal();
      this.streaming?.finish();
      this.attributes.planDone();
      this.startProgress();
      const wrote = await this.writeFiles();
      await this.linkHardlinks(wrote);
      // Every file and hardlink is written: the restore is complete. A cancel from here on changes nothing;
      // the attributes of the folders not set yet (quick) are set, and the restore reports success.
      this.attributes.finish();
      return this.result();
    } finally {
      await this.streaming?.close();
      this.dirs.close();
    }
  }

  /** A folder in an archive of many files: its files are (most likely) worth the workers' start. */
  private worthStreaming(selected: ArchiveEntry): boolean {
    return selected.kind === EntryKind.Directory && this.reader.stats.files >= MIN_FILES_FOR_WORKERS;
  }

  private fail(path: string, err: unknown, note = ''): void {
    if (isCairnError(err, 'CANCELLED')) throw err;
    this.failedCount++;
    const message = (err as Error).message + note;
    if (this.failed.length < MAX_FAILURES_LISTED) this.failed.push({ path: path || '/', message });
    this.log.warn(`not restored: ${path || '/'}: ${message}`);
  }

  // ---- 1. Folders and symlinks now; files and hardlinks collected. ----

  private async planEntry(entry: ArchiveEntry, dir: number, archivePath: string): Promise<void> {
    const turn = this.turns.due();
    if (turn) {
      throwIfCancelled(this.options.signal, 'restore');
      await turn;
    }
    if (!isSafeName(entry.name)) {
      this.fail(archivePath, new CairnError('CORRUPT', 'unsafe name in the archive'));
      return;
    }
    switch (entry.kind) {
      case EntryKind.Directory: {
        let child;
        try {
          child = this.dirs.makeChild(dir, entry.name);
        } catch (err) {
          this.fail(
            archivePath,
            new CairnError(
              isCairnError(err) ? err.code : 'IO',
              `${(err as Error).message}; nothing in it was restored`,
            ),
          );
          return;
        }
        // A restore killed in this folder before left its tmp files: gone now that their process is.
        if (child.existed)
          removeDeadProcessTmps(this.dirs.pathIn(child.dir, '.'), (name) => this.dirs.pathIn(child.dir, name));
        await this.planChildren(entry, child.dir, archivePath);
        return;
      }
      case EntryKind.Symlink:
        this.createSymlink(entry, dir, archivePath);
        return;
      case EntryKind.Hardlink:
        this.hardlinks.push({ entry, dir, archivePath });
        this.attributes.expect(dir);
        this.grow(1, entry.size);
        return;
      case EntryKind.File:
        if (this.existing === 'overwrite') this.noteReplaced(dir, entry.name, entry);
        this.options.chunkFeed?.add(entry.payloadOffset, entry.size);
        this.grow(1, entry.size);
        this.files.push({
          id: this.files.length,
          dir,
          name: entry.name,
          archivePath,
          size: entry.size,
          payloadOffset: entry.payloadOffset,
          digest: entry.digest,
          mode: entry.mode,
          uid: entry.uid,
          gid: entry.gid,
          mtimeNs: entry.mtimeNs,
        });
        this.fileKeys.push(archivePath);
        this.attributes.expect(dir);
        this.streaming?.offer(this.files.at(-1)!);
        return;
    }
  }

  private async planChildren(entry: DirectoryEntry, dir: number, archivePath: string): Promise<void> {
    let children: ArchiveEntry[];
    try {
      children = this.reader.readDirectory(entry);
    } catch (err) {
      this.fail(archivePath, new CairnError('CORRUPT', `its listing cannot be restored: ${(err as Error).message}`));
      children = [];
    }
    for (const child of children) await this.planEntry(child, dir, `${archivePath}/${displayName(child.name)}`);
    if (this.options.folderAttributes !== false) this.attributes.addFolder(dir, entry);
  }

  private createSymlink(entry: SymlinkEntry, dir: number, archivePath: string): void {
    try {
      const path = this.dirs.pathIn(dir, entry.name);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) throw new CairnError('ALREADY_EXISTS', 'a folder is in the way');
      const same = st?.isSymbolicLink() === true && readlinkSync(path, { encoding: 'buffer' }).equals(entry.target);
      if (st && !this.options.overwrite) {
        this.conflicts++;
        this.keep(`${this.dirs.shown(dir)}/${displayName(entry.name)}`, same);
        return;
      }
      if (st && !same) this.countReplaced(dir, entry.name);
      if (st) unlinkSync(path);
      symlinkSync(entry.target, path);
      lutimesSync(path, nsToTime(entry.mtimeNs), nsToTime(entry.mtimeNs));
      if (isRoot) lchownSync(path, entry.uid, entry.gid);
    } catch (err) {
      this.fail(archivePath, isCairnError(err) ? err : ioError('create symlink', archivePath, err));
    }
  }

  // ---- 2. Files, by worker threads (or here, for a few). ----

  /** The progress from the files planned so far (again once planned: workers may have begun meanwhile). */
  private startProgress(): void {
    const bytesTotal =
      this.files.reduce((n, f) => n + f.size, 0) + this.hardlinks.reduce((n, h) => n + h.entry.size, 0);
    if (this.progress) {
      this.progress.filesTotal = this.files.length + this.hardlinks.length;
      this.progress.bytesTotal = bytesTotal;
      this.meter.setTotal(bytesTotal);
      return;
    }
    this.progress = {
      phase: 'restoring',
      filesTotal: this.files.length + this.hardlinks.length,
      bytesTotal,
      filesDone: 0,
      bytesDone: 0,
      currentPath: '',
      rate: 0,
      elapsedMs: 0,
    };
    this.meter = new RateMeter(bytesTotal);
    this.report = throttle(
      (p: FolderRestoreProgress) => this.options.onProgress?.({ ...p }),
      this.options.progressIntervalMs ?? 100,
    );
  }

  /** A file planned while workers write (the totals grow as the plan does). */
  private grow(files: number, bytes: number): void {
    if (!this.streaming) return;
    this.progress.filesTotal += files;
    this.progress.bytesTotal += bytes;
    this.meter.setTotal(this.progress.bytesTotal);
  }

  private workerData(feed: ChunkFeed | undefined): Omit<RestoreWorkerData, 'batches' | 'shared' | 'jobs'> {
    return {
      root: this.reader.snapshot.chunks.base,
      snapshot: this.reader.snapshot.ref,
      key: this.reader.snapshot.crypt?.rawKey(),
      existing: this.existing,
      keepDamaged: this.options.keepDamaged ?? false,
      dirs: { rootPath: this.dest, records: this.dirs.records },
      gate: feed?.gate,
    };
  }

  /** A worker's report: files and bytes done since its last, and the ids of the files it finished. */
  private readonly workerProgress = (files: number, bytes: number, finished: readonly number[]): void => {
    this.advance(files, bytes);
    for (const id of finished) this.attributes.done(this.files[id]!.dir);
  };

  private advance(filesDone: number, bytes: number, path?: string): void {
    const { progress } = this;
    progress.filesDone += filesDone;
    progress.bytesDone += bytes;
    if (path !== undefined) progress.currentPath = path;
    Object.assign(progress, this.meter.sample(progress.bytesDone));
    this.report.push(progress);
  }

  /** Which files were written (by id); kept and failed ones are counted here. */
  private async writeFiles(): Promise<Uint8Array> {
    const feed = this.options.chunkFeed;
    const streamed = this.streaming && (await this.streaming.wait());
    // Written by the streaming workers, or else in payload order: what they were not given (planned out of it, from a
    // remote) by workers again when there are many, as an incremental snapshot has.
    const inOrder = [...(this.streaming ? this.streaming.late : this.files)].sort(
      (a, b) => a.payloadOffset - b.payloadOffset,
    );
    const worthThreads =
      inOrder.length >= MIN_FILES_FOR_WORKERS ||
      (feed !== undefined && inOrder.reduce((n, f) => n + f.size, 0) >= MIN_FED_BYTES_FOR_WORKERS);
    const workers = Math.min(this.options.workers ?? 2, worthThreads ? 8 : 0, MAX_CONSUMERS - 1);
    const gate = feed && new ChunkGate(feed.gate);
    const first = inOrder.find((f) => f.size > 0);
    const firstPosition = first ? this.reader.dataIndex.chunkAt(first.payloadOffset) : 0;
    const wrote = new Uint8Array(this.files.length);
    const failedIds = new Set<number>();
    const took = (outcome: WorkersDone): void => {
      for (const id of outcome.restored) wrote[id] = 1;
      for (const { id, message } of outcome.failed) {
        failedIds.add(id);
        this.fail(this.files[id]!.archivePath, new CairnError('IO', message));
      }
    };
    if (streamed) took(streamed);
    if (workers > 0) {
      took(
        await runRestoreWorkers(
          { ...this.workerData(feed), jobs: inOrder },
          workers,
          this.options.signal,
          this.workerProgress,
          gate && { gate, firstPosition },
        ),
      );
    } else {
      for (const f of inOrder) await this.writeFileHere(f, wrote, failedIds, gate);
    }
    // This thread's reads from here on (hardlinks copied) hold what they read.
    gate?.enter(0, INACTIVE);
    for (const f of this.files) {
      if (wrote[f.id]) {
        this.filesRestored++;
        this.bytesRestored += f.size;
      }
      if (wrote[f.id] || failedIds.has(f.id)) continue;
      this.conflicts++;
      this.filesKept++;
      this.bytesKept += f.size;
      this.keep(`${this.dirs.shown(f.dir)}/${displayName(f.name)}`, this.there(f.dir, f.name, f) === 'same');
    }
    return wrote;
  }

  private async writeFileHere(
    f: FileRestoreJob,
    wrote: Uint8Array,
    failedIds: Set<number>,
    gate: ChunkGate | undefined,
  ): Promise<void> {
    throwIfCancelled(this.options.signal, 'restore');
    let written = 0;
    let release: (() => void) | undefined;
    try {
      if (gate && f.size > 0) {
        const index = this.reader.dataIndex;
        gate.enter(0, index.chunkAt(f.payloadOffset), index.chunkAt(f.payloadOffset + f.size - 1));
        release = await this.options.chunkFeed!.hold(f.payloadOffset, f.size);
      }
      const content = this.reader.restoreContent(f.payloadOffset, f.size);
      const onBytes = (n: number): void => {
        written += n;
        this.advance(0, n, f.archivePath);
      };
      if (await restoreFileYielding(f, this.dirs, content, this.existing, onBytes, this.options.signal))
        wrote[f.id] = 1;
      else this.advance(0, f.size); // kept: its bytes count as done, so progress reaches the total
    } catch (err) {
      if (isCairnError(err, 'CANCELLED')) throw err;
      failedIds.add(f.id);
      const note =
        this.options.keepDamaged && isChunkDamage(err) ? keepDamagedCopy(f, this.dirs, this.reader, this.existing) : '';
      this.fail(f.archivePath, err, note);
      this.advance(0, f.size - written);
    } finally {
      release?.();
    }
    this.advance(1, 0);
    this.attributes.done(f.dir);
    await yieldToEventLoop();
  }

  // ---- 3. Hardlinks to files restored here; otherwise (target outside the selection, or kept) a copy. ----

  private async linkHardlinks(wrote: Uint8Array): Promise<void> {
    const idOfKey = this.hardlinks.length > 0 ? new Map(this.fileKeys.map((key, id) => [key, id])) : undefined;
    for (const h of this.hardlinks) {
      throwIfCancelled(this.options.signal, 'restore');
      let release: (() => void) | undefined;
      try {
        if (this.options.chunkFeed && h.entry.size > 0 && !this.linkTargetWritten(h, idOfKey, wrote))
          release = await this.options.chunkFeed.hold(h.entry.payloadOffset, h.entry.size);
        if (this.restoreHardlink(h, idOfKey, wrote)) {
          this.filesRestored++;
          this.bytesRestored += h.entry.size;
        }
      } catch (err) {
        this.fail(h.archivePath, isCairnError(err) ? err : ioError('create hardlink', h.archivePath, err));
      } finally {
        release?.();
      }
      this.advance(1, h.entry.size);
      this.attributes.done(h.dir);
    }
  }

  /** The file a hardlink links to, when this restore wrote it (else the hardlink is a copy). */
  private linkedFile(
    h: PlannedHardlink,
    idOfKey: Map<string, number> | undefined,
    wrote: Uint8Array,
  ): FileRestoreJob | undefined {
    const target = h.entry.linkTarget ? idOfKey?.get(`/${displayName(h.entry.linkTarget)}`) : undefined;
    return target !== undefined && wrote[target] ? this.files[target]! : undefined;
  }

  private linkTargetWritten(h: PlannedHardlink, idOfKey: Map<string, number> | undefined, wrote: Uint8Array): boolean {
    return this.linkedFile(h, idOfKey, wrote) !== undefined;
  }

  /** False when an existing file was kept. */
  private restoreHardlink(h: PlannedHardlink, idOfKey: Map<string, number> | undefined, wrote: Uint8Array): boolean {
    const linked = this.linkedFile(h, idOfKey, wrote);
    const path = this.dirs.pathIn(h.dir, h.entry.name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st && !this.options.overwrite) {
      this.conflicts++;
      this.filesKept++;
      this.bytesKept += h.entry.size;
      this.keep(
        `${this.dirs.shown(h.dir)}/${displayName(h.entry.name)}`,
        this.there(h.dir, h.entry.name, h.entry) === 'same',
      );
      return false;
    }
    if (st) this.noteReplaced(h.dir, h.entry.name, h.entry);
    if (linked) {
      const [from, to] = this.dirs.pathsIn([linked.dir, linked.name], [h.dir, h.entry.name]);
      if (st) unlinkSync(to);
      linkSync(from, to);
      return true;
    }
    const { payloadOffset, size } = h.entry;
    const job: FileRestoreJob = {
      id: -1,
      dir: h.dir,
      name: h.entry.name,
      archivePath: h.archivePath,
      size,
      payloadOffset,
      digest: h.entry.digest,
      mode: h.entry.mode,
      uid: h.entry.uid,
      gid: h.entry.gid,
      mtimeNs: h.entry.mtimeNs,
    };
    return restoreFile(job, this.dirs, this.reader.restoreContent(payloadOffset, size), this.existing, () => {});
  }

  /** An existing entry left alone (overwrite was not asked for): listed and logged, not warned about one by one. */
  private keep(path: string, same: boolean): void {
    if (same) this.keptSame++;
    if (this.keptPaths.length < MAX_FAILURES_LISTED) this.keptPaths.push(path);
    this.log.info(
      same ? `${path} is there as backed up` : `kept existing ${path}, which differs in size or date (not overwriting)`,
    );
  }

  /** With overwrite: a file there that differs from the one backed up is about to be replaced; counted, logged. */
  private noteReplaced(dir: number, name: Uint8Array, entry: { size: number; mtimeNs: bigint }): void {
    if (this.there(dir, name, entry) === 'different') this.countReplaced(dir, name);
  }

  private countReplaced(dir: number, name: Uint8Array): void {
    this.replaced++;
    this.log.info(`replacing ${this.dirs.shown(dir)}/${displayName(name)}, which differs from the snapshot`);
  }

  /** What is at the entry's place in the target: nothing, the file backed up (sameSizeAndTime), or another. */
  private there(
    dir: number,
    name: Uint8Array,
    entry: { size: number; mtimeNs: bigint },
  ): 'absent' | 'same' | 'different' {
    const st = lstatSync(this.dirs.pathIn(dir, name), { bigint: true, throwIfNoEntry: false });
    if (!st) return 'absent';
    return sameSizeAndTime(st, entry) ? 'same' : 'different';
  }

  private result(): FolderRestoreResult {
    const { progress } = this;
    Object.assign(progress, this.meter.sample(progress.bytesDone));
    progress.currentPath = '';
    this.report.flush(progress);
    return {
      ...progress,
      target: this.dest,
      conflicts: this.conflicts,
      keptSame: this.keptSame,
      replaced: this.replaced,
      filesKept: this.filesKept,
      bytesKept: this.bytesKept,
      filesRestored: this.filesRestored,
      bytesRestored: this.bytesRestored,
      failed: this.failed,
      failedCount: this.failedCount,
      keptPaths: this.keptPaths,
      warnings: this.log.warnings(),
    };
  }
}

function lstatOrThrow(path: string): ReturnType<typeof lstatSync> {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    throw ioError('restore into', path, err);
  }
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

/**
 * Restore workers started before their work is known (`deferred`: it comes as their first message), so that
 * loading their modules overlaps the planning. Those not taken are ended.
 */
class SpareWorkers {
  private readonly idle: { worker: Worker; broken: boolean }[] = [];

  constructor(count: number) {
    const url = workerScriptUrl(import.meta.url, './restore-worker.js');
    for (let i = 0; i < count; i++) {
      const spare = {
        worker: new Worker(url, { workerData: { deferred: true }, name: 'cairn-restore' }),
        broken: false,
      };
      // Until taken, a failure only marks it: a new worker is started in its place.
      const broken = (): void => {
        spare.broken = true;
      };
      spare.worker.once('error', broken).once('exit', broken);
      this.idle.push(spare);
    }
  }

  /** Every loaded worker (broken ones replaced by new ones, sent their work as the others are). */
  takeAll(): Worker[] {
    const url = workerScriptUrl(import.meta.url, './restore-worker.js');
    const all: Worker[] = [];
    while (this.idle.length > 0) {
      const spare = this.idle.shift()!;
      spare.worker.removeAllListeners();
      if (!spare.broken) all.push(spare.worker);
      else {
        void spare.worker.terminate();
        all.push(new Worker(url, { workerData: { deferred: true }, name: 'cairn-restore' }));
      }
    }
    return all;
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((s) => s.worker.terminate()));
  }
}

/**
 * Workers that write while the restore still plans (many files, or fed from a remote): started ahead
 * (SpareWorkers), they are sent the files in batches as the plan grows, with the folders planned since the batch
 * before; each takes the next batch in turn, waiting when it is not there yet, until the plan is done and no batch
 * is left. Fed from a remote, batches keep payload order (the order the feed fetches in, and the gate's readers
 * must keep): a file planned out of it is left for after the plan (`late`, written in payload order). An
 * incremental snapshot has many such files: a changed file's new content lies after the unchanged ones' that
 * follow it in the tree. From the store, a file's chunks are read wherever they are: every file is batched.
 */
class StreamingWorkers {
  /** [0] stop, [1] the next batch to take, [2] batches sent, [3] batches in all (-1 while the plan grows). */
  private readonly shared = new SharedArrayBuffer(16);
  private readonly flags = new Int32Array(this.shared);
  private readonly workers: Worker[];
  private readonly outcomes: Promise<WorkerOutcome[]>;
  private batch: FileRestoreJob[] = [];
  private bytes = 0;
  private lastOffset = -1;
  private sentDirs: number;
  private sent = 0;
  private finished = false;
  readonly late: FileRestoreJob[] = [];
  private readonly stop = (): void => {
    Atomics.store(this.flags, 0, 1);
    Atomics.notify(this.flags, 2);
  };

  constructor(
    spares: SpareWorkers,
    work: Omit<RestoreWorkerData, 'batches' | 'shared' | 'jobs'>,
    private readonly dirs: HeldDirectories,
    private readonly gate: ChunkGate | undefined,
    private readonly signal: AbortSignal | undefined,
    advance: WorkerProgress,
  ) {
    this.flags[3] = -1;
    signal?.addEventListener('abort', this.stop, { once: true });
    if (signal?.aborted) this.stop();
    this.workers = spares.takeAll();
    // Each worker reads from the start until it says where; this thread reads nothing meanwhile.
    this.workers.forEach((_, k) => gate?.enter(k + 1, 0, 0));
    gate?.enter(0, INACTIVE);
    this.sentDirs = dirs.records.length;
    this.outcomes = Promise.all(
      this.workers.map((worker, k) => {
        const outcome = watchWorker(worker, this.stop, advance);
        const data: RestoreWorkerData = {
          ...work,
          dirs: { rootPath: work.dirs.rootPath, records: dirs.records.slice() },
          jobs: [],
          batches: [],
          shared: this.shared,
          consumer: k + 1,
          streaming: true,
        };
        worker.postMessage(data);
        return outcome;
      }),
    );
  }

  offer(job: FileRestoreJob): void {
    if (this.gate && job.size > 0) {
      if (job.payloadOffset < this.lastOffset) {
        this.late.push(job);
        return;
      }
      this.lastOffset = job.payloadOffset;
    }
    this.batch.push(job);
    this.bytes += job.size;
    if (this.bytes >= BATCH_BYTES || this.batch.length >= BATCH_FILES) this.send();
  }

  private send(): void {
    const records = this.dirs.records.slice(this.sentDirs);
    this.sentDirs = this.dirs.records.length;
    for (const worker of this.workers) worker.postMessage({ records, jobs: this.batch } satisfies RestoreBatch);
    this.batch = [];
    this.bytes = 0;
    Atomics.store(this.flags, 2, ++this.sent);
    Atomics.notify(this.flags, 2);
  }

  /** The plan is done: the last batch goes, and the workers stop when no batch is left. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.batch.length > 0) this.send();
    Atomics.store(this.flags, 3, this.sent);
    Atomics.notify(this.flags, 2);
  }

  /** Waits for the workers: what they wrote and could not; throws as runRestoreWorkers does. */
  async wait(): Promise<WorkersDone> {
    this.finish();
    try {
      return gatherOutcomes(await this.outcomes, this.signal);
    } finally {
      this.signal?.removeEventListener('abort', this.stop);
      this.workers.forEach((_, k) => this.gate?.enter(k + 1, INACTIVE));
    }
  }

  /** Stops the workers if the restore ended early (an error while planning) and waits for them. */
  async close(): Promise<void> {
    if (!this.finished) this.stop();
    this.finish();
    await this.outcomes;
    this.signal?.removeEventListener('abort', this.stop);
  }
}

/** What a worker reports as it goes: files and bytes since its last report, and the ids of the files it finished. */
type WorkerProgress = (files: number, bytes: number, finished: readonly number[]) => void;

type WorkerOutcome = { restored: number[]; failed: { id: number; message: string }[] } | { error: Error };

/**
 * Runs the workers, which take batches of the files in turn, and returns the ids of the files they wrote and
 * of those they could not. Waits until every worker has stopped, also when one fails or the job is cancelled,
 * so nothing is written after this returns or throws.
 */
async function runRestoreWorkers(
  work: Omit<RestoreWorkerData, 'batches' | 'shared'>,
  workers: number,
  signal: AbortSignal | undefined,
  advance: WorkerProgress,
  fed?: { gate: ChunkGate; firstPosition: number },
): Promise<WorkersDone> {
  const batches = batchStarts(work.jobs);
  const shared = new SharedArrayBuffer(8);
  const flag = new Int32Array(shared);
  const stop = (): void => {
    Atomics.store(flag, 0, 1);
  };
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop(); // its abort event has passed
  const url = workerScriptUrl(import.meta.url, './restore-worker.js');
  let outcomes: WorkerOutcome[];
  const count = Math.min(workers, batches.length - 1);
  // Workers 1…count read from the first file on; this thread (consumer 0) reads nothing meanwhile.
  for (let c = 1; c <= count; c++) fed?.gate.enter(c, fed.firstPosition);
  fed?.gate.enter(0, INACTIVE);
  try {
    outcomes = await Promise.all(
      Array.from({ length: count }, (_, k) =>
        watchWorker(
          new Worker(url, {
            workerData: { ...work, batches, shared, consumer: k + 1 } satisfies RestoreWorkerData,
            name: 'cairn-restore',
          }),
          stop,
          advance,
        ),
      ),
    );
  } finally {
    signal?.removeEventListener('abort', stop);
    for (let c = 1; c <= count; c++) fed?.gate.enter(c, INACTIVE);
  }
  return gatherOutcomes(outcomes, signal);
}

type WorkersDone = { restored: number[]; failed: { id: number; message: string }[] };

/** A worker's outcome, once it has also exited; a failure or an error stops the others (`stop`). */
function watchWorker(worker: Worker, stop: () => void, advance: WorkerProgress): Promise<WorkerOutcome> {
  return new Promise<WorkerOutcome>((resolvePromise) => {
    let outcome: WorkerOutcome | undefined;
    let exited = false;
    const settle = (): void => {
      if (outcome && exited) resolvePromise(outcome);
    };
    worker.on('message', (m: RestoreWorkerMessage) => {
      if (m.type === 'progress') {
        advance(m.files, m.bytes, m.finished);
        return;
      }
      if (m.type === 'done') outcome ??= { restored: m.restored, failed: m.failed };
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
  });
}

function gatherOutcomes(outcomes: WorkerOutcome[], signal: AbortSignal | undefined): WorkersDone {
  const errors = outcomes.flatMap((o) => ('error' in o ? [o.error] : []));
  if (errors.length > 0) {
    if (signal?.aborted) throwIfCancelled(signal, 'restore');
    // One worker's failure stops the others (they report CANCELLED): report the failure itself.
    throw errors.find((e) => !(isCairnError(e) && e.code === 'CANCELLED')) ?? errors[0]!;
  }
  return {
    restored: outcomes.flatMap((o) => ('restored' in o ? o.restored : [])),
    failed: outcomes.flatMap((o) => ('failed' in o ? o.failed : [])),
  };
}
