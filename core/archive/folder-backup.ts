import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { assertBackupId, snapshotPath, toBackupId, type SnapshotRef } from '../backup/backup-names.js';
import { chunkerParams, MiB } from '../chunker/chunker-params.js';
import type { BackupSession } from '../datastore/backup-session.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';
import { CairnError, errnoCode, isCairnError } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns, RateMeter, throttle, type RateSample } from '../jobs/rate-meter.js';
import { isSameOrInside } from '../fs/inside-root.js';
import { MemoryLogger, type Logger } from '../log.js';
import type { DynamicIndexReader } from '../index/dynamic-index.js';
import {
  DATA_ARCHIVE,
  encodeTrailer,
  EntryKind,
  META_ARCHIVE,
  UNTRUSTED_LISTING,
  type ArchiveEntry,
  type ArchiveStats,
  type DirectoryEntry,
  type FileEntry,
} from './archive-format.js';
import { BaseListings } from './base-listing.js';
import { ChunkReuser } from './chunk-reuse.js';
import { openChunkTarget } from '../chunk-store/chunk-target.js';
import { InlineChunkWriter } from '../chunk-store/inline-chunk-writer.js';
import { ExcludeRules } from './excludes.js';
import { FolderArchiveReader } from './folder-reader.js';
import { appendToBase, baseTrailerStands, METADATA_IN_USE } from './metadata-append.js';
import { matchRecord, type RecordMatch } from './record-match.js';
import { RecordQueue } from './record-queue.js';
import { scanSource, type SourceNode } from './source-scan.js';
import { hardlinkKey } from './source-stat.js';
import { ArchiveStreamWriter } from './stream-writer.js';

/** Average chunk size of the payload stream: small enough that a change rewrites little (docs/FORMAT.md). */
export const FOLDER_CHUNK_SIZE = 1 * MiB;
/** The metadata stream changes a little every backup: small chunks keep that cheap and browsing quick. */
export const META_CHUNK_SIZE = 64 * 1024;
const READ_BLOCK = 4 * MiB;
const EMPTY_DIGEST = createHash('sha256').digest();

export interface FolderBackupProgress extends RateSample {
  phase: 'scanning' | 'backing-up' | 'finishing';
  filesTotal: number;
  bytesTotal: number;
  filesDone: number;
  /** Bytes read plus bytes reused as unchanged. */
  bytesDone: number;
  bytesRead: number;
  /** Bytes of unchanged files, taken from the base snapshot without reading them. */
  bytesReused: number;
  chunks: number;
  newChunks: number;
  /** Encoded bytes newly written to the store. */
  newBytes: number;
  /** Bytes read whose chunks the store already had. */
  dedupBytes: number;
  currentPath: string;
}

export interface FolderBackupResult extends FolderBackupProgress {
  snapshot: SnapshotRef;
  path: string;
  base?: string;
  stats: ArchiveStats;
  excluded: number;
  /** Folders with nothing changed in them or below: their record is the base's, byte for byte. */
  foldersUnchanged: number;
  /**
   * The metadata stream begins as the base's: the records of unchanged folders are where the base has them,
   * and only the others were written (metadata-append.ts).
   */
  metadataAppended: boolean;
  /** Folders whose names the scan took from the base's record instead of reading the folder (BaseListings). */
  foldersListedFromBase: number;
  warnings: string[];
}

export interface FolderBackupOptions {
  id?: string;
  excludes?: readonly string[];
  /** Back up into a group that records another source (the folder moved); else that is refused. */
  allowOtherSource?: boolean;
  /** Average payload chunk size (power of two, 64 KiB to 4 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: FolderBackupProgress) => void;
  /** Least time between progress events (default 100 ms); 0 reports after every file. */
  progressIntervalMs?: number;
  /** Worker threads that hash, compress and store chunks (0: the job's own thread). */
  workers?: number;
}

/** Chunks in flight to the writers before the reader waits. */
const MAX_QUEUED_CHUNKS = 16;

/**
 * The group's newest finished snapshot whose verify did not fail and that holds a folder archive. Newer ones
 * that fail these tests (or cannot be opened, which is logged) are passed over for the next older one. An
 * archive whose chunk-digest threshold is not `chunkDigestMin` (another chunk size, or the first archive
 * format) is passed over too: the digests of its files could not be taken over as they are.
 */
export function chooseBase(
  store: Datastore,
  snapshots: SnapshotInfo[],
  log: Logger,
  chunkDigestMin: number,
): FolderArchiveReader | undefined {
  for (const info of [...snapshots].reverse()) {
    if (!info.finished) continue;
    try {
      const snap = store.openSnapshot(info);
      if (snap.manifest.unprotected.verify_state?.state === 'failed') continue;
      if (!FolderArchiveReader.hasFolderArchive(snap.manifest.files.map((f) => f.filename))) continue;
      const reader = new FolderArchiveReader(snap);
      if (reader.chunkDigestMin !== chunkDigestMin) {
        log.info(`not using ${info.path} as the base: stored with another chunk size or archive version`);
        continue;
      }
      return reader;
    } catch (err) {
      log.warn(`not using ${info.path} as the base: ${(err as Error).message}`);
    }
  }
  return undefined;
}

/**
 * Backs up a folder as a snapshot of `host/<id>`: a metadata stream and a payload stream, both chunked and
 * deduplicated. Files unchanged since the base snapshot (size, mtime, inode and ctime) are not read: their
 * chunks are reused. A failure or cancel removes the snapshot; chunks already written stay for GC.
 */
export async function backupFolder(
  store: Datastore,
  source: string,
  options: FolderBackupOptions = {},
): Promise<FolderBackupResult> {
  const root = resolve(source);
  const id = options.id !== undefined ? assertBackupId(options.id) : toBackupId(basename(root));
  if (!id) throw new CairnError('INVALID_NAME', `cannot derive a backup id from ${root}; choose one`);
  if (isSameOrInside(root, store.root)) {
    throw new CairnError(
      'PATH_NOT_ALLOWED',
      `the datastore ${store.root} is inside ${root}: a backup would copy the store into itself; back up a folder beside it`,
    );
  }
  const group = { type: 'host' as const, id };
  const session = store.startBackup(group);
  try {
    store.assertGroupSource(group, [root], options.allowOtherSource);
    const result = await runFolderBackup(store, root, session, {
      ...options,
      signal: anySignal(options.signal, session.signal),
    });
    store.recordGroupSource(group, [root], options.log);
    return result;
  } finally {
    session.release();
  }
}

async function runFolderBackup(
  store: Datastore,
  root: string,
  session: BackupSession,
  options: FolderBackupOptions,
): Promise<FolderBackupResult> {
  const group = session.group;
  const memoryLog = new MemoryLogger();
  const log: Logger = {
    info: (m) => {
      memoryLog.info(m);
      options.log?.info(m);
    },
    warn: (m) => {
      memoryLog.warn(m);
      options.log?.warn(m);
    },
  };
  const progress: FolderBackupProgress = {
    phase: 'scanning',
    filesTotal: 0,
    bytesTotal: 0,
    filesDone: 0,
    bytesDone: 0,
    bytesRead: 0,
    bytesReused: 0,
    chunks: 0,
    newChunks: 0,
    newBytes: 0,
    dedupBytes: 0,
    currentPath: '',
    rate: 0,
    elapsedMs: 0,
  };
  const report = throttle(
    (p: FolderBackupProgress) => options.onProgress?.({ ...p }),
    options.progressIntervalMs ?? 100,
  );

  const payloadAvg = options.chunkSize ?? FOLDER_CHUNK_SIZE;
  /** Files this large start and end on chunk boundaries, and their digest is made from their chunks' (FORMAT.md). */
  const largeFile = chunkerParams(payloadAvg).min;
  // The base first: the scan takes the names of folders unchanged since then from its records.
  let base = chooseBase(store, store.listSnapshots(group), log, largeFile);
  if (base && !session.holdSnapshot(base.snapshot.ref, true)) {
    log.warn(`${base.snapshot.path} was forgotten as the backup started; backing up without a base`);
    base = undefined;
  }
  const baseListings = base ? new BaseListings(base) : undefined;

  const scan = await scanSource(root, {
    excludes: ExcludeRules.fromPatterns(options.excludes ?? []),
    log,
    signal: options.signal,
    base: baseListings,
    onProgress: (t) => report.push({ ...progress, filesTotal: t.files, bytesTotal: t.bytes }),
  });
  throwIfCancelled(options.signal, 'backup');
  progress.filesTotal = scan.totals.files;
  progress.bytesTotal = scan.totals.bytes;
  progress.phase = 'backing-up';
  const meter = new RateMeter(progress.bytesTotal);
  const snapshot = store.beginSnapshot(group, { session, log });
  const stats: ArchiveStats = {
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    bytes: 0,
    skipped: scan.totals.skipped,
  };
  const sink = openChunkTarget(
    store.chunks,
    store.config.compression === 'zstd',
    chunkerParams(payloadAvg).max,
    options.workers ?? 2,
    log,
  );
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  try {
    const dataIndex = snapshot.createDynamicIndex(DATA_ARCHIVE);
    const metaIndex = snapshot.createDynamicIndex(META_ARCHIVE);
    const data = new ArchiveStreamWriter(dataIndex, sink, payloadAvg);
    // The metadata stream is small: stored on this thread, so a backup of an unchanged tree starts no worker.
    const meta = new ArchiveStreamWriter(
      metaIndex,
      new InlineChunkWriter(store.chunks, store.config.compression === 'zstd', sink.counters, log),
      META_CHUNK_SIZE,
    );
    const metadataAppended = base !== undefined && appendToBase(base, meta, store.chunks);
    const records = new RecordQueue(meta, data);
    const reuser = base ? new ChunkReuser(base.dataIndex, data, store.chunks) : undefined;
    const block = Buffer.allocUnsafe(READ_BLOCK);
    const hardlinks = new Map<string, FileEntry & { relBytes: Buffer }>();
    const rootPathLength = Buffer.byteLength(root);
    const turns = new EventLoopTurns();
    /** A digest run of the payload stream is open for the file being read. */
    let runOpen = false;
    let foldersUnchanged = 0;
    /** The bytes of every folder's record, wherever it lies: with the trailer, what the stream uses. */
    let recordBytes = 0;

    let ticks = 0;
    let bytesAtTick = 0;
    /**
     * After each file: progress and a chance for the event loop to run. Most files of an unchanged tree take a
     * microsecond, so the clock is read only every 32 files or after a MiB, and a promise is returned only
     * when it is time to yield (an await per file was a tenth of an unchanged backup). An interval of 0 asks
     * for every file.
     */
    const everyFile = options.progressIntervalMs === 0;
    // Progress (rate, ETA) goes on while the thread waits for the chunk writers, e.g. inside a large file.
    heartbeat = everyFile
      ? undefined
      : setInterval(() => {
          Object.assign(progress, meter.sample(progress.bytesDone), sink.counters);
          report.push(progress);
        }, options.progressIntervalMs ?? 100);
    /** Progress with `file` as the current one, and every 50 ms a turn of the event loop (a cancel arrives so). */
    const reportAt = (file: SourceNode): Promise<void> | undefined => {
      progress.currentPath = file.rel; // made only here: building every file's display path cost ~10 ms a tree
      Object.assign(progress, meter.sample(progress.bytesDone), sink.counters);
      report.push(progress);
      return turns.due()?.then(() => throwIfCancelled(options.signal, 'backup'));
    };
    const tick = (file: SourceNode): Promise<void> | undefined => {
      throwIfCancelled(options.signal, 'backup');
      if (!everyFile && (++ticks & 31) !== 0 && progress.bytesDone - bytesAtTick < MiB) return undefined;
      bytesAtTick = progress.bytesDone;
      return reportAt(file);
    };
    /** While a large file is read, after every block: tick reports between files only, and a cancel waited for it. */
    const tickInFile = (node: SourceNode): Promise<void> | undefined => {
      throwIfCancelled(options.signal, 'backup');
      return reportAt(node);
    };

    const readFile = async (node: SourceNode, baseEntry: FileEntry | undefined): Promise<FileEntry | undefined> => {
      let fd: number;
      try {
        // Non-blocking: were the file replaced by a FIFO since the scan, opening it would wait for a writer
        // forever (and freeze this thread); the fstat below then skips it. Reads of a regular file still block.
        fd = openSync(node.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
      } catch (err) {
        log.warn(
          `skipped ${node.rel}: ${errnoCode(err) === 'ENOENT' ? 'it vanished during the backup' : (err as Error).message}`,
        );
        stats.skipped++;
        return undefined;
      }
      try {
        const before = fstatSync(fd, { bigint: true });
        if (!before.isFile()) {
          log.warn(`skipped ${node.rel}: no longer a regular file`);
          stats.skipped++;
          return undefined;
        }
        const size = Number(before.size);
        const large = size >= largeFile;
        // A large file's digest comes from its chunks' digests (the chunk writers hash every byte anyway);
        // the job thread hashes only small files, and a large file's first bytes in case it shrinks meanwhile.
        const chunkDigest = large ? Buffer.alloc(32) : undefined;
        if (chunkDigest) {
          data.forceCut();
          data.beginDigestRun(chunkDigest);
          runOpen = true;
        }
        const payloadOffset = data.offset;
        if (large) await tickInFile(node);
        const tail =
          large && baseEntry && base && baseEntry.size < size ? oldTailChunk(base.dataIndex, baseEntry) : undefined;
        const hash = createHash('sha256');
        let pos = 0;
        while (pos < size) {
          let want = Math.min(READ_BLOCK, size - pos);
          if (tail && pos < tail.oldSize) want = Math.min(want, tail.oldSize - pos);
          const got = readSync(fd, block, 0, want, pos);
          if (got === 0) break;
          const bytes = block.subarray(0, got);
          data.write(bytes);
          if (!large) hash.update(bytes);
          else if (pos < largeFile) hash.update(bytes.subarray(0, largeFile - pos));
          await data.drain(MAX_QUEUED_CHUNKS);
          records.flush();
          pos += got;
          progress.bytesRead += got;
          progress.bytesDone += got;
          if (large) await tickInFile(node);
          // An append keeps the old last chunk: cut where the old file ended if that chunk is intact.
          if (tail && pos === tail.oldSize && data.pendingEquals(tail.length, tail.digest)) data.forceCut();
        }
        let digest: Buffer;
        if (chunkDigest) {
          data.forceCut();
          // Shrunk below the threshold while read: the job thread hashed all of it.
          if (pos >= largeFile) data.endDigestRun();
          else data.dropDigestRun();
          runOpen = false;
          digest = pos >= largeFile ? chunkDigest : hash.digest();
        } else {
          digest = hash.digest();
        }
        const after = fstatSync(fd, { bigint: true });
        let ctimeNs = before.ctimeNs;
        if (after.mtimeNs !== before.mtimeNs || after.size !== before.size || pos !== size) {
          log.warn(`${node.rel} changed while it was read; the snapshot holds ${pos} bytes of it`);
          ctimeNs = -1n; // never equal: the next backup reads it again
        }
        return {
          kind: EntryKind.File,
          name: node.name,
          mode: Number(before.mode) & 0o7777,
          uid: Number(before.uid),
          gid: Number(before.gid),
          mtimeNs: before.mtimeNs,
          size: pos,
          payloadOffset,
          digest,
          ino: before.ino,
          ctimeNs,
        };
      } catch (err) {
        if (runOpen) data.dropDigestRun();
        runOpen = false;
        if (isCairnError(err)) throw err;
        log.warn(`skipped ${node.rel}: ${(err as Error).message}`);
        stats.skipped++;
        return undefined;
      } finally {
        closeSync(fd);
      }
    };

    const countFile = (node: SourceNode, entry: FileEntry, linkKey: string | undefined): FileEntry => {
      stats.files++;
      stats.bytes += entry.size;
      if (linkKey) hardlinks.set(linkKey, { ...entry, relBytes: Buffer.from(node.path).subarray(rootPathLength + 1) });
      return entry;
    };

    /** The entry of a file unchanged since the base (size, mtime, inode, ctime), its chunks reused; else undefined. */
    const reuseUnchanged = (node: SourceNode, baseEntry: ArchiveEntry | undefined): FileEntry | undefined => {
      const st = node.stat;
      if (!baseEntry || (baseEntry.kind !== EntryKind.File && baseEntry.kind !== EntryKind.Hardlink)) return undefined;
      if (
        baseEntry.size !== st.size ||
        baseEntry.mtimeNs !== st.mtimeNs ||
        baseEntry.ino !== st.ino ||
        baseEntry.ctimeNs !== st.ctimeNs
      )
        return undefined;
      const linkKey = hardlinkKey(st);
      if (linkKey && hardlinks.has(linkKey)) return undefined; // a later link of a file already stored
      const offset = st.size === 0 ? 0 : reuser?.reuse(baseEntry.payloadOffset, st.size);
      if (offset === undefined) return undefined;
      progress.bytesReused += st.size;
      progress.bytesDone += st.size;
      return countFile(node, scannedFile(node, offset, baseEntry.digest), linkKey);
    };

    const processFile = async (
      node: SourceNode,
      baseEntry: ArchiveEntry | undefined,
      folderIntact: () => boolean,
    ): Promise<FileEntry | undefined> => {
      const st = node.stat;
      const linkKey = hardlinkKey(st);
      const first = linkKey ? hardlinks.get(linkKey) : undefined;
      if (first) {
        stats.hardlinks++;
        return { ...first, kind: EntryKind.Hardlink, name: node.name, linkTarget: first.relBytes };
      }
      if (!folderIntact()) {
        stats.skipped++;
        return undefined;
      }
      const baseFile =
        baseEntry && (baseEntry.kind === EntryKind.File || baseEntry.kind === EntryKind.Hardlink)
          ? baseEntry
          : undefined;
      const entry = st.size === 0 && !baseFile ? scannedFile(node, 0, EMPTY_DIGEST) : await readFile(node, baseFile);
      return entry ? countFile(node, entry, linkKey) : undefined;
    };

    /**
     * Before anything in a folder is read: is it still the folder the scan listed? Were it replaced by a symlink
     * since, reading "its" files would read wherever that points. Asked once per folder, and only if needed.
     */
    const intactCheck = (node: SourceNode): (() => boolean) => {
      let intact: boolean | undefined;
      return () => {
        if (intact === undefined) {
          const now = lstatSync(node.path, { bigint: true, throwIfNoEntry: false });
          intact = now !== undefined && now.isDirectory() && now.ino === node.stat.ino && now.dev === node.stat.dev;
          if (!intact)
            log.warn(
              `folder ${node.rel || '.'} was replaced or moved during the backup; its changed entries are skipped`,
            );
        }
        return intact;
      };
    };

    /** A symlink's target, or undefined (logged, counted as skipped) if it cannot be read. */
    const readTarget = (node: SourceNode, folderIntact: () => boolean): Buffer | undefined => {
      if (!folderIntact()) {
        stats.skipped++;
        return undefined;
      }
      try {
        return readlinkSync(node.path, { encoding: 'buffer' });
      } catch (err) {
        log.warn(`skipped ${node.rel}: ${(err as Error).message}`);
        stats.skipped++;
        return undefined;
      }
    };

    const directoryEntry = (
      node: SourceNode,
      record: { recordOffset: number; recordLength: number },
      payloadBase: number | undefined,
    ): DirectoryEntry => {
      recordBytes += record.recordLength;
      return {
        kind: EntryKind.Directory,
        name: node.name,
        mode: node.stat.mode & 0o7777,
        uid: node.stat.uid,
        gid: node.stat.gid,
        mtimeNs: node.stat.mtimeNs,
        ...record,
        payloadBase,
        ino: node.stat.ino,
        ctimeNs: node.listingCtimeNs ?? UNTRUSTED_LISTING,
      };
    };

    /** The base record of a folder (`raw`) if every entry in it is unchanged (see matchRecord), else undefined. */
    const matchBase = (
      node: SourceNode,
      raw: Buffer,
      baseDir: DirectoryEntry,
      folderIntact: () => boolean,
    ): RecordMatch | undefined => {
      const place = { recordOffset: baseDir.recordOffset, payloadBase: baseDir.payloadBase ?? 0 };
      // A symlink's target is read only here when it matches; on the usual path it is read again.
      return matchRecord(raw, place, node.children ?? [], (link) => {
        if (!folderIntact()) return undefined;
        try {
          return readlinkSync(link.path, { encoding: 'buffer' });
        } catch {
          return undefined;
        }
      });
    };

    /**
     * A folder whose base record matches every entry: files take their chunks from the base, subfolders are
     * backed up in turn, and if the new record would be byte for byte the base's (its offsets are relative,
     * so it is unless something below changed), the base's record stands: where the base has it when the
     * metadata stream was appended to the base's, else its bytes are written again as they are. Nothing is
     * decoded or encoded: on an unchanged tree that was most of the backup's work.
     */
    const copyDirectory = async (
      node: SourceNode,
      baseDir: DirectoryEntry,
      match: RecordMatch,
      folderIntact: () => boolean,
    ): Promise<DirectoryEntry> => {
      const children = node.children ?? [];
      const newOffsets: number[] = new Array<number>(children.length).fill(0);
      const folders: (DirectoryEntry | undefined)[] = new Array<DirectoryEntry | undefined>(children.length);
      /** Files whose base chunks were gone, read again (undefined: skipped). */
      const reread = new Map<number, FileEntry | undefined>();
      let payloadBase: number | undefined;
      for (let i = 0; i < children.length; i++) {
        const child = children[i]!;
        if (child.kind === 'directory') {
          const entry = await processDirectory(child, match.baseFolders[i]);
          folders[i] = entry;
          payloadBase ??= entry.payloadBase;
          continue;
        }
        if (child.kind === 'symlink') {
          stats.symlinks++;
          continue;
        }
        const size = child.stat.size;
        const offset = size === 0 ? 0 : reuser!.reuse(match.baseOffsets[i]!, size);
        if (offset === undefined) {
          const entry = await processFile(child, undefined, folderIntact);
          reread.set(i, entry);
          if (entry && entry.size > 0) payloadBase ??= entry.payloadOffset;
        } else {
          newOffsets[i] = offset;
          if (size > 0) payloadBase ??= offset;
          progress.bytesReused += size;
          progress.bytesDone += size;
          stats.files++;
          stats.bytes += size;
        }
        progress.filesDone++;
        const pause = tick(child);
        if (pause) await pause;
      }
      stats.directories++;

      // Appended to the base, a record that stands stays where the base has it: so must its subfolders' records.
      const recordOffset = metadataAppended ? baseDir.recordOffset : records.offset;
      let same = reread.size === 0;
      for (let i = 0; same && i < children.length; i++) {
        const folder = folders[i];
        if (folder) {
          same =
            recordOffset - folder.recordOffset === match.distance[i] &&
            folder.recordLength === match.length[i] &&
            (folder.payloadBase === undefined ? 0 : folder.payloadBase - payloadBase!) === match.relative[i];
        } else if (children[i]!.kind === 'file' && children[i]!.stat.size > 0) {
          same = newOffsets[i]! - payloadBase! === match.relative[i];
        }
      }
      if (same) {
        foldersUnchanged++;
        const record = metadataAppended
          ? { recordOffset, recordLength: match.raw.length }
          : records.addEncoded(match.raw);
        return directoryEntry(node, record, payloadBase);
      }

      // Something below moved: encode the record, taking the digests of unchanged files from the base.
      const baseEntries = base!.readDirectory(baseDir, match.raw);
      const entries: ArchiveEntry[] = [];
      for (let i = 0; i < children.length; i++) {
        const child = children[i]!;
        const was = baseEntries[i]!;
        if (child.kind === 'directory') entries.push(folders[i]!);
        else if (was.kind === EntryKind.Symlink) entries.push({ ...was, name: child.name });
        else if (reread.has(i)) {
          const entry = reread.get(i);
          if (entry) entries.push(entry);
        } else if (was.kind === EntryKind.File) {
          entries.push(scannedFile(child, newOffsets[i]!, was.digest));
        }
      }
      return directoryEntry(node, records.add(entries, payloadBase ?? 0), payloadBase);
    };

    const processDirectory = async (node: SourceNode, baseDir: DirectoryEntry | undefined): Promise<DirectoryEntry> => {
      const folderIntact = intactCheck(node);
      /** The base record's bytes, read once: compared in place, and decoded only if that fails. */
      let raw: Buffer | undefined;
      if (baseDir && baseListings && reuser) {
        try {
          raw = baseListings.take(baseDir);
        } catch {
          // read again below, which says what is wrong
        }
        const match = raw && matchBase(node, raw, baseDir, folderIntact);
        if (match) return copyDirectory(node, baseDir, match, folderIntact);
      }
      let baseEntries: ArchiveEntry[] | undefined;
      if (baseDir && base) {
        try {
          baseEntries = base.readDirectory(baseDir, raw);
        } catch (err) {
          log.warn(
            `base snapshot unreadable at ${node.rel || '.'}: ${(err as Error).message}; reading everything below it`,
          );
        }
      }
      const entries: ArchiveEntry[] = [];
      // Both lists are sorted by name bytes: one cursor through the base finds every match.
      const baseList = baseEntries ?? [];
      let cursor = 0;
      for (const child of node.children ?? []) {
        let order = 1;
        while (cursor < baseList.length && (order = Buffer.compare(baseList[cursor]!.name, child.name)) < 0) cursor++;
        const baseEntry = cursor < baseList.length && order === 0 ? baseList[cursor] : undefined;
        if (child.kind === 'directory') {
          entries.push(await processDirectory(child, baseEntry?.kind === EntryKind.Directory ? baseEntry : undefined));
          continue;
        }
        if (child.kind === 'symlink') {
          const target = readTarget(child, folderIntact);
          if (target) {
            entries.push({
              kind: EntryKind.Symlink,
              name: child.name,
              mode: child.stat.mode & 0o7777,
              uid: child.stat.uid,
              gid: child.stat.gid,
              mtimeNs: child.stat.mtimeNs,
              target,
            });
            stats.symlinks++;
          }
          continue;
        }
        const entry = reuseUnchanged(child, baseEntry) ?? (await processFile(child, baseEntry, folderIntact));
        if (entry) entries.push(entry);
        progress.filesDone++;
        const pause = tick(child);
        if (pause) await pause;
      }
      stats.directories++;
      const payloadBase = contentStart(entries);
      return directoryEntry(node, records.add(entries, payloadBase ?? 0), payloadBase);
    };

    const rootEntry = await processDirectory(scan.root, base?.root);
    throwIfCancelled(options.signal, 'backup');
    progress.phase = 'finishing';
    report.push(progress);
    await data.finish();
    records.flush();
    if (records.size > 0)
      throw new Error('folder records still wait for file digests after the payload stream finished');
    const trailerAt = (at: number): Buffer => encodeTrailer(rootEntry, stats, largeFile, at);
    let metadataInUse = recordBytes;
    if (metadataAppended && meta.offset === base!.metaIndex.size && baseTrailerStands(base!, trailerAt)) {
      metadataInUse += base!.metaIndex.size - base!.trailerOffset; // nothing changed: the stream is the base's
    } else {
      const trailer = trailerAt(meta.offset);
      meta.write(trailer);
      metadataInUse += trailer.length;
    }
    await meta.finish();
    snapshot.closeIndex(dataIndex);
    snapshot.closeIndex(metaIndex);
    const warnings = memoryLog.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    if (warnings.length > 0) snapshot.addBlob('backup-log.blob', Buffer.from(`${warnings.join('\n')}\n`));
    Object.assign(progress, meter.sample(progress.bytesDone), sink.counters);
    const counters = sink.counters;
    snapshot.finish({
      chunk_upload_stats: {
        count: counters.newChunks,
        size: counters.chunks,
        compressed_size: counters.newBytes,
        duplicates: counters.chunks - counters.newChunks,
      },
      'cairn-backup': {
        kind: 'folder',
        source: root,
        base: base?.snapshot.path,
        ...stats,
        excluded: scan.totals.excluded,
        foldersUnchanged,
        [METADATA_IN_USE]: metadataInUse,
        bytesRead: progress.bytesRead,
        bytesReused: progress.bytesReused,
        newBytes: counters.newBytes,
        newChunks: counters.newChunks,
        dedupBytes: counters.dedupBytes,
        durationMs: Math.round(progress.elapsedMs),
      },
    });
    progress.currentPath = '';
    report.flush(progress);
    return {
      ...progress,
      snapshot: snapshot.ref,
      path: snapshotPath(snapshot.ref),
      base: base?.snapshot.path,
      stats,
      excluded: scan.totals.excluded,
      foldersUnchanged,
      foldersListedFromBase: scan.totals.listedFromBase,
      metadataAppended,
      warnings,
    };
  } catch (err) {
    snapshot.abort();
    throw err;
  } finally {
    clearInterval(heartbeat);
    await sink.close();
  }
}

/**
 * A folder's payload base: where the first content of its subtree lies (undefined if it has none). Its record
 * stores offsets relative to it, so the record stays the same while only content before the folder changes.
 */
function contentStart(entries: readonly ArchiveEntry[]): number | undefined {
  for (const e of entries) {
    if (e.kind === EntryKind.File && e.size > 0) return e.payloadOffset;
    if (e.kind === EntryKind.Directory && e.payloadBase !== undefined) return e.payloadBase;
  }
  return undefined;
}

/** A file's entry as the scan saw it, its content at `payloadOffset` with `digest` (unchanged, or empty). */
function scannedFile(node: SourceNode, payloadOffset: number, digest: Buffer): FileEntry {
  const st = node.stat;
  return {
    kind: EntryKind.File,
    name: node.name,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtimeNs: st.mtimeNs,
    size: st.size,
    payloadOffset,
    digest,
    ino: st.ino,
    ctimeNs: st.ctimeNs,
  };
}

/** The base's last chunk of a file, if it belongs to that file alone (large files end on a boundary). */
function oldTailChunk(
  index: DynamicIndexReader,
  entry: FileEntry,
): { oldSize: number; length: number; digest: Buffer } | undefined {
  if (entry.size === 0 || entry.payloadOffset + entry.size > index.size) return undefined;
  const end = entry.payloadOffset + entry.size;
  const k = index.chunkAt(end - 1);
  if (index.chunkEnd(k) !== end || index.chunkStart(k) < entry.payloadOffset) return undefined;
  return { oldSize: entry.size, length: end - index.chunkStart(k), digest: index.digest(k) };
}
