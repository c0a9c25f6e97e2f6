import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { assertBackupId, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { chunkerParams, MiB } from '../chunker/chunker-params.js';
import type { BackupSession } from '../datastore/backup-session.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import type { Manifest } from '../backup/manifest.js';
import { snapshotCryptMode, snapshotKeyFingerprint } from '../datastore/snapshot-key.js';
import type { SnapshotWriter } from '../datastore/snapshot-writer.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';
import { isCairnError } from '../errors.js';
import { anySignal, throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns, RateMeter, throttle, type RateSample } from '../jobs/rate-meter.js';
import { MemoryLogger, type Logger } from '../log.js';
import type { DynamicIndexReader, DynamicIndexWriter } from '../index/dynamic-index.js';
import {
  DATA_ARCHIVE,
  DirectoryRecordBuilder,
  encodeTrailer,
  EntryKind,
  META_ARCHIVE,
  UNTRUSTED_LISTING,
  type ArchiveEntry,
  type ArchiveStats,
  type DirectoryEntry,
  type FileEntry,
} from './archive-format.js';
import { BaseListings, type BaseFolder } from './base-listing.js';
import { BackupTotals } from './backup-totals.js';
import { ChunkReuser } from './chunk-reuse.js';
import { openChunkTarget } from '../chunk-store/chunk-target.js';
import type { ChunkTarget } from '../chunk-store/chunk-writer-pool.js';
import { InlineChunkWriter } from '../chunk-store/inline-chunk-writer.js';
import { ExcludeRules } from './excludes.js';
import { FolderArchiveReader } from './folder-reader.js';
import { LeftOut, type LeftOutEntry } from './left-out.js';
import { appendToBase, baseTrailerStands, METADATA_IN_USE } from './metadata-append.js';
import { matchRecord, type RecordMatch } from './record-match.js';
import { RecordQueue } from './record-queue.js';
import { FolderSources } from './multi-source.js';
import { sortedSources } from '../backup/source-set.js';
import type { SourceNode, SourceTree } from './source-scan.js';
import { hardlinkKey, sameInode, unsigned64 } from './source-stat.js';
import { ArchiveStreamWriter } from './stream-writer.js';

/** Average chunk size of the payload stream: small enough that a change rewrites little (docs/FORMAT.md). */
export const FOLDER_CHUNK_SIZE = 1 * MiB;
/** The metadata stream changes a little every backup: small chunks keep that cheap and browsing quick. */
export const META_CHUNK_SIZE = 64 * 1024;
/**
 * A file is read this much at a time, straight into the chunk being built: at most the chunker's minimum, so
 * a read holds at most one cut and the bytes after it (moved to the next chunk's buffer) are few; measured on
 * the bench dataset, 4 MiB reads were no faster.
 */
const MAX_READ_BLOCK = 256 * 1024;
/** With the smallest chunk sizes (a minimum of 16 KiB), reads stay this large: a few cuts each, not a call per 16 KiB. */
const MIN_READ_BLOCK = 64 * 1024;
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
  /**
   * Entries there that the snapshot lacks (unreadable, a name it cannot store): how many, and the first
   * LEFT_OUT_NAMED of them. Not a failure, since the rest is backed up, but not a clean backup either.
   */
  leftOut: { count: number; named: LeftOutEntry[] };
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
  /** Encrypt the snapshot with this key; only a base made with the same key is used. */
  crypt?: CryptConfig;
  /** With `crypt`: the key RSA-encrypted for the master key's holder (crypto/master-key.ts). */
  masterKeyBlob?: Buffer;
  /** Archives written into the same snapshot once the folders' are (a plan's disk images, core/plans/plan-backup.ts). */
  alongside?: AlongsideArchives;
}

/** Archives of other sources in a folder backup's snapshot: their paths are part of the group's source. */
export interface AlongsideArchives {
  readonly paths: readonly string[];
  /** Writes them into `snapshot` (not finishing it); what the manifest notes of them under `cairn-backup`. */
  write(snapshot: SnapshotWriter, signal: AbortSignal | undefined): Promise<Record<string, unknown>>;
}

/** A base folder's entry as the walk takes it: where its record lies, and what tells it still lists the folder. */
function baseFolderOf(dir: DirectoryEntry): BaseFolder {
  const { recordOffset, recordLength, payloadBase, mtimeNs, ino, ctimeNs } = dir;
  return { recordOffset, recordLength, payloadBase: payloadBase ?? 0, mtimeNs, ino, ctimeNs };
}

/**
 * Is a folder still the one listed? Asked once before anything in it is read; `again` looks anew (a file in
 * it turned out to be another than the one listed).
 */
type IntactCheck = (again?: boolean) => boolean;

/** Chunks in flight to the writers before the reader waits. */
const MAX_QUEUED_CHUNKS = 16;

/**
 * The group's newest finished snapshot whose verify did not fail and that holds a folder archive. Newer ones
 * that fail these tests (or cannot be opened, which is logged) are passed over for the next older one. An
 * archive whose chunk-digest threshold is not `chunkDigestMin` (another chunk size) is passed over too: the
 * digests of its files could not be taken over as they are.
 */
export function chooseBase(
  store: Datastore,
  snapshots: SnapshotInfo[],
  log: Logger,
  chunkDigestMin: number,
  crypt?: CryptConfig,
): FolderArchiveReader | undefined {
  for (const info of [...snapshots].reverse()) {
    if (!info.finished) continue;
    try {
      const manifest = store.readManifest(info);
      if (manifest.unprotected.verify_state?.state === 'failed') continue;
      const keyMismatch = baseKeyMismatch(manifest, crypt);
      if (keyMismatch) {
        log.info(`not using ${info.path} as the base: ${keyMismatch}`);
        continue;
      }
      const snap = store.openSnapshot(info, { crypt });
      if (!FolderArchiveReader.hasFolderArchive(snap.manifest.files.map((f) => f.filename))) continue;
      const reader = new FolderArchiveReader(snap);
      if (reader.chunkDigestMin !== chunkDigestMin) {
        log.info(
          `not using ${info.path} as the base: its large-file digest threshold is ${reader.chunkDigestMin} bytes, this backup's ${chunkDigestMin} (another chunk size)`,
        );
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
 * Why a snapshot cannot be the base of a backup under `crypt` (or of a plain one): its chunks are addressed by
 * another key, so none could be taken over. Undefined when it can.
 */
function baseKeyMismatch(manifest: Manifest, crypt: CryptConfig | undefined): string | undefined {
  const encrypted = snapshotCryptMode(manifest) === 'encrypt';
  if (!crypt) return encrypted ? 'it is encrypted, and this backup is not' : undefined;
  if (!encrypted) return 'it is not encrypted, and this backup is';
  const fingerprint = snapshotKeyFingerprint(manifest);
  return fingerprint === crypt.fingerprint() ? undefined : 'it is encrypted with another key';
}

/**
 * Backs up a folder (or several, as the entries of the archive's root: multi-source.ts) as a snapshot of
 * `host/<id>`: a metadata stream and a payload stream, both chunked and deduplicated. Files unchanged since
 * the base snapshot (size, mtime, inode and ctime) are not read: their chunks are reused. A failure or cancel
 * removes the snapshot; chunks already written stay for GC.
 */
export async function backupFolder(
  store: Datastore,
  source: string | readonly string[],
  options: FolderBackupOptions = {},
): Promise<FolderBackupResult> {
  const sources = FolderSources.of(source, store.root);
  const id = options.id !== undefined ? assertBackupId(options.id) : sources.defaultId();
  const group = { type: 'host' as const, id };
  // Sorted with the other sources' (a plan's images), so that the order they are listed in never matters.
  const recorded = options.alongside ? sortedSources([...sources.paths, ...options.alongside.paths]) : sources.paths;
  const session = store.startBackup(group);
  try {
    store.assertGroupEncryption(group, options.crypt);
    store.assertGroupSource(group, recorded, options.allowOtherSource, options.crypt);
    const result = await runFolderBackup(store, sources, session, {
      ...options,
      signal: anySignal(options.signal, session.signal),
    });
    store.recordGroupSource(group, recorded, options.log, options.crypt);
    return result;
  } finally {
    session.release();
  }
}

function scanningProgress(): FolderBackupProgress {
  return {
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
}

/** The base (chooseBase), held by the session so that it is not forgotten while its chunks are reused. */
function holdBase(
  store: Datastore,
  session: BackupSession,
  log: Logger,
  chunkDigestMin: number,
  crypt: CryptConfig | undefined,
): FolderArchiveReader | undefined {
  const base = chooseBase(store, store.listSnapshots(session.group), log, chunkDigestMin, crypt);
  if (base && !session.holdSnapshot(base.snapshot.ref, true)) {
    log.warn(`${base.snapshot.path} was forgotten as the backup started; backing up without a base`);
    return undefined;
  }
  return base;
}

type ProgressReport = ReturnType<typeof throttle<FolderBackupProgress>>;

/** What the first pass leaves for the second: the job's logs and reporting, its base, and the listed tree. */
interface ListedSources {
  memoryLog: MemoryLogger;
  leftOut: LeftOut;
  progress: FolderBackupProgress;
  report: ProgressReport;
  payloadAvg: number;
  base: FolderArchiveReader | undefined;
  baseListings: BaseListings | undefined;
  tree: SourceTree;
}

/**
 * The backup in two passes: the scan (totals for progress, and the stats that tell unchanged files), then a
 * FolderBackup that writes the tree into the snapshot's streams. A failure removes the snapshot.
 */
async function runFolderBackup(
  store: Datastore,
  sources: FolderSources,
  session: BackupSession,
  options: FolderBackupOptions,
): Promise<FolderBackupResult> {
  const { memoryLog, payloadAvg, ...listed } = await listSources(store, sources, session, options);
  const { base } = listed;
  const log: Logger = memoryLog;
  listed.progress.phase = 'backing-up';
  const snapshot = store.beginSnapshot(session.group, {
    session,
    log,
    crypt: options.crypt,
    masterKeyBlob: options.masterKeyBlob,
  });
  let sink: ChunkTarget | undefined;
  let totals: BackupTotals | undefined;
  let backup: FolderBackup | undefined;
  try {
    sink = openChunkTarget(
      store.chunks,
      store.chunkCodec(options.crypt),
      chunkerParams(payloadAvg).max,
      options.workers ?? 2,
      log,
    );
    totals = backupTotals(base, sources, store.root, options, log);
    const meter = new RateMeter(totals.bytes);
    backup = new FolderBackup({ store, sources, options, log, ...listed, meter, sink, snapshot, totals }, payloadAvg);
    const rootEntry = await backup.backupDirectory(listed.tree.root, base?.root);
    const metadataInUse = await backup.finish(rootEntry);
    // The archives beside report their own progress: no more of the folders' from here.
    backup.stopHeartbeat();
    const alongside = await options.alongside?.write(snapshot, options.signal);
    return backup.finishSnapshot(metadataInUse, memoryLog, alongside);
  } catch (err) {
    snapshot.abort();
    throw err;
  } finally {
    backup?.stopHeartbeat();
    await totals?.close();
    await sink?.close();
  }
}

/** The first pass: the base chosen and held, then the sources' roots listed (unchanged folders by the base's records). */
async function listSources(
  store: Datastore,
  sources: FolderSources,
  session: BackupSession,
  options: FolderBackupOptions,
): Promise<ListedSources> {
  // Every line is kept too, for the snapshot's backup-log.blob and the result's warnings.
  const memoryLog = new MemoryLogger(options.log);
  const leftOut = new LeftOut(memoryLog);
  const progress = scanningProgress();
  const report = throttle(
    (p: FolderBackupProgress) => options.onProgress?.({ ...p }),
    options.progressIntervalMs ?? 100,
  );
  const payloadAvg = options.chunkSize ?? FOLDER_CHUNK_SIZE;
  // The base first: the scan takes the names of folders unchanged since then from its records.
  const base = holdBase(store, session, memoryLog, chunkerParams(payloadAvg).min, options.crypt);
  const baseListings = base ? new BaseListings(base) : undefined;
  const tree = sources.open({
    excludes: ExcludeRules.fromPatterns(options.excludes ?? []),
    log: memoryLog,
    signal: options.signal,
    base: baseListings,
    leftOut,
  });
  await tree.listRoots(base && baseFolderOf(base.root));
  throwIfCancelled(options.signal, 'backup');
  return { memoryLog, leftOut, progress, report, payloadAvg, base, baseListings, tree };
}

/** Counting the tree is a second walk of it, for an ETA: only when someone is told the progress. */
function backupTotals(
  base: FolderArchiveReader | undefined,
  sources: FolderSources,
  storeRoot: string,
  options: FolderBackupOptions,
  log: Logger,
): BackupTotals {
  if (base) return BackupTotals.fromBase(base.stats.files, base.stats.bytes);
  return options.onProgress
    ? BackupTotals.counting(sources, storeRoot, options.excludes ?? [], log)
    : new BackupTotals();
}

/** What a FolderBackup is given: the job, its reporting, its base, and where its chunks go. */
interface FolderBackupJob {
  readonly store: Datastore;
  readonly sources: FolderSources;
  readonly options: FolderBackupOptions;
  readonly log: Logger;
  /** The entries it could not take although they are there (the walk's and its own). */
  readonly leftOut: LeftOut;
  readonly progress: FolderBackupProgress;
  readonly report: ProgressReport;
  readonly meter: RateMeter;
  readonly sink: ChunkTarget;
  readonly snapshot: SnapshotWriter;
  readonly base: FolderArchiveReader | undefined;
  readonly baseListings: BaseListings | undefined;
  /** The source, listed folder by folder as the backup reaches it. */
  readonly tree: SourceTree;
  /** What progress counts toward while the tree is walked. */
  readonly totals: BackupTotals;
}

/**
 * Writes a scanned tree into a snapshot's two streams, folder by folder, depth first (the shape of restic's
 * archiver): backupDirectory decides per folder whether its base record can be copied (copyDirectory) or its
 * entries must be built (backupChildren); files are reused from the base (reuseUnchanged) or read
 * (backupFile, readFile). Records go through a RecordQueue, since a large file's digest arrives late.
 */
class FolderBackup {
  readonly stats: ArchiveStats;
  /** Folders with nothing changed in or below them: their record is the base's, byte for byte. */
  foldersUnchanged = 0;
  readonly metadataAppended: boolean;
  private readonly log: Logger;
  private readonly progress: FolderBackupProgress;
  private readonly base: FolderArchiveReader | undefined;
  private readonly signal: AbortSignal | undefined;
  /** Files this large start and end on chunk boundaries, and their digest is made from their chunks' (FORMAT.md). */
  private readonly largeFile: number;
  private readonly dataIndex: DynamicIndexWriter;
  private readonly metaIndex: DynamicIndexWriter;
  private readonly data: ArchiveStreamWriter;
  private readonly meta: ArchiveStreamWriter;
  private readonly records: RecordQueue;
  private readonly reuser: ChunkReuser | undefined;
  /** How much of a file is read at once (MAX_READ_BLOCK). */
  private readonly readBlock: number;
  /** The first link of each hardlinked inode stored so far, with its path from the root. */
  private readonly hardlinks = new Map<string, FileEntry & { relBytes: Buffer }>();
  private readonly turns = new EventLoopTurns();
  /** A progress interval of 0 asks for an event after every file. */
  private readonly everyFile: boolean;
  private readonly heartbeat: ReturnType<typeof setInterval> | undefined;
  /** A digest run of the payload stream is open for the file being read. */
  private runOpen = false;
  /** The bytes of every folder's record, wherever it lies: with the trailer, what the stream uses. */
  private recordBytes = 0;
  private ticks = 0;
  private bytesAtTick = 0;

  constructor(
    private readonly job: FolderBackupJob,
    payloadAvg: number,
  ) {
    const { store, sink, snapshot, base, options } = job;
    this.log = job.log;
    this.progress = job.progress;
    this.base = base;
    this.signal = options.signal;
    this.largeFile = chunkerParams(payloadAvg).min;
    this.readBlock = Math.max(MIN_READ_BLOCK, Math.min(MAX_READ_BLOCK, this.largeFile));
    this.stats = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0, skipped: 0 };
    this.dataIndex = snapshot.createDynamicIndex(DATA_ARCHIVE);
    this.metaIndex = snapshot.createDynamicIndex(META_ARCHIVE);
    this.data = new ArchiveStreamWriter(this.dataIndex, sink, payloadAvg);
    // The metadata stream is small: stored on this thread, so a backup of an unchanged tree starts no worker.
    const metaWriter = new InlineChunkWriter(store.chunks, sink.codec, sink.counters, job.log);
    this.meta = new ArchiveStreamWriter(this.metaIndex, metaWriter, META_CHUNK_SIZE);
    this.metadataAppended = base !== undefined && appendToBase(base, this.meta, store.chunks);
    this.records = new RecordQueue(this.meta, this.data);
    this.reuser = base ? new ChunkReuser(base.dataIndex, this.data, store.chunks) : undefined;
    this.everyFile = options.progressIntervalMs === 0;
    // Progress (rate, ETA) goes on while the thread waits for the chunk writers, e.g. inside a large file.
    this.heartbeat = this.everyFile
      ? undefined
      : setInterval(() => this.sampleProgress(), options.progressIntervalMs ?? 100);
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  private sampleProgress(): void {
    const { progress, totals, meter, tree } = this.job;
    // The count (or the base's figures), and at least what the walk has listed so far.
    progress.filesTotal = Math.max(totals.files, tree.totals.files, progress.filesDone);
    progress.bytesTotal = Math.max(totals.bytes, tree.totals.bytes, progress.bytesDone);
    meter.setTotal(progress.bytesTotal);
    Object.assign(progress, meter.sample(progress.bytesDone), this.job.sink.counters);
    // Against totals still being counted an ETA would only mislead.
    if (!totals.final) progress.etaSeconds = undefined;
    this.job.report.push(progress);
  }

  // ---- Progress, and a turn of the event loop now and then. ----

  /** Progress with `file` as the current one, and every 50 ms a turn of the event loop (a cancel arrives so). */
  private reportAt(file: SourceNode): Promise<void> | undefined {
    this.progress.currentPath = file.rel; // made only here: building every file's display path cost ~10 ms a tree
    this.sampleProgress();
    return this.turns.due()?.then(() => throwIfCancelled(this.signal, 'backup'));
  }

  /**
   * After each file. Most files of an unchanged tree take a microsecond, so the clock is read only every 32
   * files or after a MiB, and a promise is returned only when it is time to yield (an await per file was a
   * tenth of an unchanged backup).
   */
  private tick(file: SourceNode): Promise<void> | undefined {
    throwIfCancelled(this.signal, 'backup');
    if (!this.everyFile && (++this.ticks & 31) !== 0 && this.progress.bytesDone - this.bytesAtTick < MiB)
      return undefined;
    this.bytesAtTick = this.progress.bytesDone;
    return this.reportAt(file);
  }

  /** While a large file is read, after every block: tick reports between files only, and a cancel waited for it. */
  private tickInFile(node: SourceNode): Promise<void> | undefined {
    throwIfCancelled(this.signal, 'backup');
    return this.reportAt(node);
  }

  // ---- Folders. ----

  /** Backs up the folder `node` (its base entry `baseDir`, if it has one) and everything below it. */
  async backupDirectory(node: SourceNode, baseDir: DirectoryEntry | undefined): Promise<DirectoryEntry> {
    await this.job.tree.expand(node, baseDir && baseFolderOf(baseDir));
    try {
      return await this.backupListedDirectory(node, baseDir);
    } finally {
      node.children = undefined; // done with: the tree is held only along the way down
    }
  }

  private async backupListedDirectory(node: SourceNode, baseDir: DirectoryEntry | undefined): Promise<DirectoryEntry> {
    const folderIntact = this.intactCheck(node);
    /** The base record's bytes, read once: compared in place, and decoded only if that fails. */
    let raw: Buffer | undefined;
    if (baseDir && this.job.baseListings && this.reuser) {
      try {
        raw = this.job.baseListings.take(baseDir);
      } catch {
        // read again below, which says what is wrong
      }
      const match = raw && this.matchBase(node, raw, baseDir, folderIntact);
      if (match) return this.copyDirectory(node, baseDir, match, folderIntact);
    }
    let baseEntries: ArchiveEntry[] | undefined;
    if (baseDir && this.base) {
      try {
        baseEntries = this.base.readDirectory(baseDir, raw);
      } catch (err) {
        this.log.warn(
          `base snapshot unreadable at ${node.rel || '.'}: ${(err as Error).message}; reading everything below it`,
        );
      }
    }
    const record = new DirectoryRecordBuilder(this.largeFile, node.children);
    await this.backupChildren(node, baseEntries ?? [], folderIntact, record);
    this.stats.directories++;
    return this.directoryEntry(node, this.records.add(record), record.payloadBase);
  }

  /** Backs up a folder's children into its `record`, each against its base entry in `baseList` if it has one. */
  private async backupChildren(
    node: SourceNode,
    baseList: readonly ArchiveEntry[],
    folderIntact: IntactCheck,
    entries: DirectoryRecordBuilder,
  ): Promise<void> {
    // Each child is let go once backed up: a folder of 200,000 files held its nodes beside its entries.
    const children: (SourceNode | undefined)[] = node.children ?? [];
    node.children = undefined;
    // Both lists are sorted by name bytes: one cursor through the base finds every match.
    let cursor = 0;
    let leftOut = false;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      children[i] = undefined;
      let order = 1;
      while (cursor < baseList.length && (order = Buffer.compare(baseList[cursor]!.name, child.name)) < 0) cursor++;
      const baseEntry = cursor < baseList.length && order === 0 ? baseList[cursor] : undefined;
      if (child.kind === 'directory') {
        entries.add(await this.backupDirectory(child, baseEntry?.kind === EntryKind.Directory ? baseEntry : undefined));
        continue;
      }
      if (child.kind === 'symlink') {
        const target = this.readTarget(child, folderIntact);
        if (target) {
          entries.add(symlinkEntry(child, target));
          this.stats.symlinks++;
        } else leftOut = true;
        continue;
      }
      const entry = this.reuseUnchanged(child, baseEntry) ?? (await this.backupFile(child, baseEntry, folderIntact));
      if (entry) entries.add(entry);
      else leftOut = true;
      this.progress.filesDone++;
      const pause = this.tick(child);
      if (pause) await pause;
    }
    if (leftOut) leaveListingUntrusted(node);
  }

  /** The base record of a folder (`raw`) if every entry in it is unchanged (see matchRecord), else undefined. */
  private matchBase(
    node: SourceNode,
    raw: Buffer,
    baseDir: DirectoryEntry,
    folderIntact: IntactCheck,
  ): RecordMatch | undefined {
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
  }

  /**
   * A folder whose base record matches every entry: files take their chunks from the base, subfolders are
   * backed up in turn, and if the new record would be byte for byte the base's (its offsets are relative,
   * so it is unless something below changed), the base's record stands: where the base has it when the
   * metadata stream was appended to the base's, else its bytes are written again as they are. Nothing is
   * decoded or encoded: on an unchanged tree that was most of the backup's work.
   */
  private async copyDirectory(
    node: SourceNode,
    baseDir: DirectoryEntry,
    match: RecordMatch,
    folderIntact: IntactCheck,
  ): Promise<DirectoryEntry> {
    const copied = new CopiedChildren(node.children ?? [], match);
    await this.copyChildren(copied, folderIntact);
    if ([...copied.reread.values()].some((entry) => entry === undefined)) leaveListingUntrusted(node);
    this.stats.directories++;
    // Appended to the base, a record that stands stays where the base has it: so must its subfolders' records.
    const recordOffset = this.metadataAppended ? baseDir.recordOffset : this.records.offset;
    if (copied.recordStandsAt(recordOffset)) {
      this.foldersUnchanged++;
      const record = this.metadataAppended
        ? { recordOffset, recordLength: match.raw.length }
        : this.records.addEncoded(match.raw);
      return this.directoryEntry(node, record, copied.payloadBase);
    }
    // Something below moved: encode the record, taking the digests of unchanged files from the base.
    const record = copied.record(this.base!.readDirectory(baseDir, match.raw), this.largeFile);
    return this.directoryEntry(node, this.records.add(record), record.payloadBase);
  }

  /** Backs up the children of a matched folder: files from their base chunks where they are all still there. */
  private async copyChildren(copied: CopiedChildren, folderIntact: IntactCheck): Promise<void> {
    const { children, match } = copied;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.kind === 'directory') {
        const entry = await this.backupDirectory(child, match.baseFolders[i]);
        copied.folders[i] = entry;
        copied.payloadBase ??= entry.payloadBase;
        continue;
      }
      if (child.kind === 'symlink') {
        this.stats.symlinks++;
        continue;
      }
      const size = child.stat.size;
      const offset = size === 0 ? 0 : this.reuser!.reuse(match.baseOffsets[i]!, size);
      if (offset === undefined) {
        const entry = await this.backupFile(child, undefined, folderIntact);
        copied.reread.set(i, entry);
        if (entry && entry.size > 0) copied.payloadBase ??= entry.payloadOffset;
      } else {
        copied.newOffsets[i] = offset;
        if (size > 0) copied.payloadBase ??= offset;
        this.progress.bytesReused += size;
        this.progress.bytesDone += size;
        this.stats.files++;
        this.stats.bytes += size;
      }
      this.progress.filesDone++;
      const pause = this.tick(child);
      if (pause) await pause;
    }
  }

  private directoryEntry(
    node: SourceNode,
    record: { recordOffset: number; recordLength: number },
    payloadBase: number | undefined,
  ): DirectoryEntry {
    this.recordBytes += record.recordLength;
    return {
      kind: EntryKind.Directory,
      ...entryBase(node),
      ...record,
      payloadBase,
      ino: node.stat.ino,
      ctimeNs: node.listingCtimeNs ?? UNTRUSTED_LISTING,
    };
  }

  /**
   * Before anything in a folder is read: is it still the folder the scan listed? Were it replaced by a symlink
   * since, reading "its" files would read wherever that points. Asked once per folder, and only if needed.
   */
  private intactCheck(node: SourceNode): IntactCheck {
    let intact: boolean | undefined;
    return (again = false) => {
      if (intact === undefined || (again && intact)) {
        const now = lstatSync(node.path, { bigint: true, throwIfNoEntry: false });
        intact = now !== undefined && now.isDirectory() && sameInode(now, node.stat);
        if (!intact)
          this.log.warn(
            `folder ${node.rel || '.'} was replaced or moved during the backup; its changed entries are skipped`,
          );
      }
      return intact;
    };
  }

  /** A symlink's target, or undefined (logged, counted as skipped) if it cannot be read. */
  private readTarget(node: SourceNode, folderIntact: IntactCheck): Buffer | undefined {
    if (!folderIntact()) {
      this.stats.skipped++;
      return undefined;
    }
    try {
      return readlinkSync(node.path, { encoding: 'buffer' });
    } catch (err) {
      this.job.leftOut.failedRead(node.rel, err);
      this.stats.skipped++;
      return undefined;
    }
  }

  // ---- Files. ----

  /** The entry of a file unchanged since the base (size, mtime, inode, ctime), its chunks reused; else undefined. */
  private reuseUnchanged(node: SourceNode, baseEntry: ArchiveEntry | undefined): FileEntry | undefined {
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
    if (linkKey && this.hardlinks.has(linkKey)) return undefined; // a later link of a file already stored
    const offset = st.size === 0 ? 0 : this.reuser?.reuse(baseEntry.payloadOffset, st.size);
    if (offset === undefined) return undefined;
    this.progress.bytesReused += st.size;
    this.progress.bytesDone += st.size;
    return this.countFile(node, scannedFile(node, offset, baseEntry.digest), linkKey);
  }

  /** A file that could not be reused: a later link of a stored inode, an empty file, or one read now. */
  private async backupFile(
    node: SourceNode,
    baseEntry: ArchiveEntry | undefined,
    folderIntact: IntactCheck,
  ): Promise<FileEntry | undefined> {
    const st = node.stat;
    const linkKey = hardlinkKey(st);
    const first = linkKey ? this.hardlinks.get(linkKey) : undefined;
    if (first) {
      this.stats.hardlinks++;
      return { ...first, kind: EntryKind.Hardlink, name: node.name, linkTarget: first.relBytes };
    }
    if (!folderIntact()) {
      this.stats.skipped++;
      return undefined;
    }
    const baseFile =
      baseEntry && (baseEntry.kind === EntryKind.File || baseEntry.kind === EntryKind.Hardlink) ? baseEntry : undefined;
    const entry =
      st.size === 0 && !baseFile
        ? scannedFile(node, 0, EMPTY_DIGEST)
        : await this.readFile(node, baseFile, folderIntact);
    return entry ? this.countFile(node, entry, linkKey) : undefined;
  }

  private countFile(node: SourceNode, entry: FileEntry, linkKey: string | undefined): FileEntry {
    this.stats.files++;
    this.stats.bytes += entry.size;
    if (linkKey) this.hardlinks.set(linkKey, { ...entry, relBytes: this.job.sources.archivePath(node.path) });
    return entry;
  }

  /** The file opened for reading, or undefined (logged, counted as skipped) if it cannot be. */
  private openSource(node: SourceNode): number | undefined {
    try {
      // Non-blocking: were the file replaced by a FIFO since the scan, opening it would wait for a writer
      // forever (and freeze this thread); the fstat in readFile then skips it. Reads of a regular file still block.
      return openSync(node.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    } catch (err) {
      this.job.leftOut.failedRead(node.rel, err);
      this.stats.skipped++;
      return undefined;
    }
  }

  /** Reads a file into the payload stream; its entry, or undefined (logged, counted) if it could not be read. */
  private async readFile(
    node: SourceNode,
    baseEntry: FileEntry | undefined,
    folderIntact: IntactCheck,
  ): Promise<FileEntry | undefined> {
    const fd = this.openSource(node);
    if (fd === undefined) return undefined;
    try {
      const before = fstatSync(fd, { bigint: true });
      if (!before.isFile()) {
        this.log.warn(`skipped ${node.rel}: no longer a regular file`);
        this.stats.skipped++;
        return undefined;
      }
      // Another file than the one listed (saved anew, or its folder swapped for a symlink since): look again.
      if (!sameInode(before, node.stat) && !folderIntact(true)) {
        this.stats.skipped++;
        return undefined;
      }
      const size = Number(before.size);
      const large = size >= this.largeFile;
      const chunkDigest = large ? this.beginLargeFile() : undefined;
      const payloadOffset = this.data.offset;
      if (large) await this.tickInFile(node);
      const tail =
        large && baseEntry && this.base && baseEntry.size < size
          ? oldTailChunk(this.base.dataIndex, baseEntry)
          : undefined;
      const hash = createHash('sha256');
      const stored = await this.copyContent(fd, node, size, hash, tail);
      const digest = chunkDigest ? this.endLargeFile(chunkDigest, stored, hash) : pooledDigest(hash);
      const after = fstatSync(fd, { bigint: true });
      let ctimeNs = before.ctimeNs;
      if (after.mtimeNs !== before.mtimeNs || after.size !== before.size || stored !== size) {
        this.log.warn(`${node.rel} changed while it was read; the snapshot holds ${stored} bytes of it`);
        ctimeNs = -1n; // never equal: the next backup reads it again
      }
      return {
        kind: EntryKind.File,
        name: node.name,
        mode: Number(before.mode) & 0o7777,
        uid: Number(before.uid),
        gid: Number(before.gid),
        mtimeNs: before.mtimeNs,
        size: stored,
        payloadOffset,
        digest,
        ino: unsigned64(before.ino),
        ctimeNs,
      };
    } catch (err) {
      if (this.runOpen) this.data.dropDigestRun();
      this.runOpen = false;
      if (isCairnError(err)) throw err;
      this.job.leftOut.failedRead(node.rel, err);
      this.stats.skipped++;
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * A large file's digest comes from its chunks' digests (the chunk writers hash every byte anyway): it starts
   * on a chunk boundary, in a digest run that fills the returned buffer.
   */
  private beginLargeFile(): Buffer {
    const chunkDigest = Buffer.alloc(32);
    this.data.forceCut();
    this.data.beginDigestRun(chunkDigest);
    this.runOpen = true;
    return chunkDigest;
  }

  /** Ends a large file's chunk and digest run; its digest (the content's, if it shrank below the threshold). */
  private endLargeFile(chunkDigest: Buffer, stored: number, hash: Hash): Buffer {
    this.data.forceCut();
    // Shrunk below the threshold while read: the job thread hashed all of it.
    if (stored >= this.largeFile) this.data.endDigestRun();
    else this.data.dropDigestRun();
    this.runOpen = false;
    return stored >= this.largeFile ? chunkDigest : pooledDigest(hash);
  }

  /**
   * Copies up to `size` bytes of the file into the payload stream, block by block; returns how many it read.
   * The job thread hashes only small files, and a large file's first bytes in case it shrinks meanwhile.
   */
  private async copyContent(
    fd: number,
    node: SourceNode,
    size: number,
    hash: Hash,
    tail: OldTailChunk | undefined,
  ): Promise<number> {
    const { data, largeFile, progress } = this;
    const large = size >= largeFile;
    let pos = 0;
    while (pos < size) {
      let want = Math.min(this.readBlock, size - pos);
      if (tail && pos < tail.oldSize) want = Math.min(want, tail.oldSize - pos);
      // Straight into the chunk being built: the chunk writers get these very bytes.
      const room = data.space(want);
      const got = readSync(fd, room, 0, room.length, pos);
      if (got === 0) break;
      const bytes = room.subarray(0, got);
      if (!large) hash.update(bytes);
      else if (pos < largeFile) hash.update(bytes.subarray(0, largeFile - pos));
      data.commit(got);
      await data.drain(MAX_QUEUED_CHUNKS);
      this.records.flush();
      pos += got;
      progress.bytesRead += got;
      progress.bytesDone += got;
      if (large) await this.tickInFile(node);
      // An append keeps the old last chunk: cut where the old file ended if that chunk is intact.
      if (tail && pos === tail.oldSize && data.pendingEquals(tail.length, tail.digest)) data.forceCut();
    }
    return pos;
  }

  // ---- The end. ----

  /** Closes both streams, the metadata stream with its trailer; returns how many of its bytes the archive uses. */
  async finish(rootEntry: DirectoryEntry): Promise<number> {
    const { base, meta, progress } = this;
    throwIfCancelled(this.signal, 'backup');
    progress.phase = 'finishing';
    this.job.report.push(progress);
    await this.data.finish();
    this.records.flush();
    if (this.records.size > 0)
      throw new Error('folder records still wait for file digests after the payload stream finished');
    // The walk's own skips (unreadable folders, vanished entries) beside the backup's.
    this.stats.skipped += this.job.tree.totals.skipped;
    const trailerAt = (at: number): Buffer => encodeTrailer(rootEntry, this.stats, this.largeFile, at);
    let metadataInUse = this.recordBytes;
    if (this.metadataAppended && meta.offset === base!.metaIndex.size && baseTrailerStands(base!, trailerAt)) {
      metadataInUse += base!.metaIndex.size - base!.trailerOffset; // nothing changed: the stream is the base's
    } else {
      const trailer = trailerAt(meta.offset);
      meta.write(trailer);
      metadataInUse += trailer.length;
    }
    await meta.finish();
    this.job.snapshot.closeIndex(this.dataIndex);
    this.job.snapshot.closeIndex(this.metaIndex);
    return metadataInUse;
  }

  /** Finishes the snapshot: the warnings' blob, then the manifest with the job's figures; the job's result. */
  finishSnapshot(
    metadataInUse: number,
    memoryLog: MemoryLogger,
    alongside?: Record<string, unknown>,
  ): FolderBackupResult {
    const { snapshot, sources, base, sink, meter } = this.job;
    const { progress, stats, foldersUnchanged } = this;
    const totals = this.job.tree.totals;
    progress.filesTotal = totals.files;
    progress.bytesTotal = totals.bytes;
    const warnings = memoryLog.warnings();
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
        // The manifest is not encrypted: an encrypted backup does not name its folders there.
        ...(this.job.options.crypt ? {} : sources.manifestNote()),
        ...alongside,
        base: base?.snapshot.path,
        ...stats,
        excluded: totals.excluded,
        // Entries there that could not be read (left-out.ts): the snapshot lacks them, listings say so.
        ...(this.job.leftOut.count > 0 ? { leftOut: this.job.leftOut.count } : {}),
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
    this.job.report.flush(progress);
    return {
      ...progress,
      snapshot: snapshot.ref,
      path: snapshotPath(snapshot.ref),
      base: base?.snapshot.path,
      stats,
      excluded: totals.excluded,
      foldersUnchanged,
      foldersListedFromBase: totals.listedFromBase,
      metadataAppended: this.metadataAppended,
      warnings,
      leftOut: { count: this.job.leftOut.count, named: [...this.job.leftOut.named] },
    };
  }
}

/**
 * What copyDirectory learns of a matched folder's children as it backs them up: where each file's content
 * now lies, each subfolder's new entry, and the files read again because their base chunks were gone.
 */
class CopiedChildren {
  readonly newOffsets: number[];
  readonly folders: (DirectoryEntry | undefined)[];
  /** Files whose base chunks were gone, read again (undefined: skipped). */
  readonly reread = new Map<number, FileEntry | undefined>();
  payloadBase: number | undefined;

  constructor(
    readonly children: readonly SourceNode[],
    readonly match: RecordMatch,
  ) {
    this.newOffsets = new Array<number>(children.length).fill(0);
    this.folders = new Array<DirectoryEntry | undefined>(children.length);
  }

  /** Whether the folder's new record, at `recordOffset`, would be byte for byte its base record. */
  recordStandsAt(recordOffset: number): boolean {
    const { children, match, folders, newOffsets, payloadBase } = this;
    let same = this.reread.size === 0;
    for (let i = 0; same && i < children.length; i++) {
      const folder = folders[i];
      if (folder) {
        // The match went by the listing ctime the folder was expected to get; listed, it may say otherwise.
        same =
          folder.ctimeNs === match.baseFolders[i]!.ctimeNs &&
          recordOffset - folder.recordOffset === match.distance[i] &&
          folder.recordLength === match.length[i] &&
          (folder.payloadBase === undefined ? 0 : folder.payloadBase - payloadBase!) === match.relative[i];
      } else if (children[i]!.kind === 'file' && children[i]!.stat.size > 0) {
        same = newOffsets[i]! - payloadBase! === match.relative[i];
      }
    }
    return same;
  }

  /** The folder's new record, its unchanged files and symlinks from the base's entries (`baseEntries`). */
  record(baseEntries: readonly ArchiveEntry[], lateDigestMin: number): DirectoryRecordBuilder {
    const { children, folders, reread, newOffsets } = this;
    const entries = new DirectoryRecordBuilder(lateDigestMin, children);
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      const was = baseEntries[i]!;
      if (child.kind === 'directory') entries.add(folders[i]!);
      else if (was.kind === EntryKind.Symlink) entries.add({ ...was, name: child.name });
      else if (reread.has(i)) {
        const entry = reread.get(i);
        if (entry) entries.add(entry);
      } else if (was.kind === EntryKind.File) {
        entries.add(scannedFile(child, newOffsets[i]!, was.digest));
      }
    }
    return entries;
  }
}

/** The fields every entry takes from its scan: name, permission bits, owner and mtime. */
function entryBase(node: SourceNode): Pick<ArchiveEntry, 'name' | 'mode' | 'uid' | 'gid' | 'mtimeNs'> {
  const st = node.stat;
  return { name: node.name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeNs: st.mtimeNs };
}

function symlinkEntry(node: SourceNode, target: Buffer): ArchiveEntry {
  return {
    kind: EntryKind.Symlink,
    ...entryBase(node),
    target,
  };
}

/**
 * A file's digest, copied into Node's shared buffer pool: a folder's entries are held until its record is
 * written, and a digest Buffer of its own costs ~800 bytes of memory beside its 32 (a folder of 200,000 files).
 */
function pooledDigest(hash: Hash): Buffer {
  return Buffer.from(hash.digest());
}

/** A file's entry as the scan saw it, its content at `payloadOffset` with `digest` (unchanged, or empty). */
function scannedFile(node: SourceNode, payloadOffset: number, digest: Buffer): FileEntry {
  const st = node.stat;
  return {
    kind: EntryKind.File,
    ...entryBase(node),
    size: st.size,
    payloadOffset,
    digest,
    ino: st.ino,
    ctimeNs: st.ctimeNs,
  };
}

/** The base's last chunk of a file that grew: the new one is cut where the old one ended if it is intact. */
interface OldTailChunk {
  oldSize: number;
  length: number;
  digest: Buffer;
}

/** The base's last chunk of a file, if it belongs to that file alone (large files end on a boundary). */
function oldTailChunk(index: DynamicIndexReader, entry: FileEntry): OldTailChunk | undefined {
  if (entry.size === 0 || entry.payloadOffset + entry.size > index.size) return undefined;
  const end = entry.payloadOffset + entry.size;
  const k = index.chunkAt(end - 1);
  if (index.chunkEnd(k) !== end || index.chunkStart(k) < entry.payloadOffset) return undefined;
  return { oldSize: entry.size, length: end - index.chunkStart(k), digest: index.digest(k) };
}

/**
 * An entry of the folder was skipped (unreadable, vanished, replaced): its record must not stand for the folder's
 * listing, or the next backup, finding the folder's ctime unchanged, would take its names from the record and
 * never look at the skipped entry again. Untrusted, the folder is listed anew each time until nothing is left out.
 */
function leaveListingUntrusted(node: SourceNode): void {
  node.listingCtimeNs = UNTRUSTED_LISTING;
}
