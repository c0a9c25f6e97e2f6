import { userInfo } from 'node:os';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  assertBackupId,
  assertBackupType,
  BACKUP_TYPES,
  formatBackupTime,
  groupPath,
  isBackupTimeString,
  isValidBackupId,
  parseBackupTime,
  snapshotPath,
  type BackupGroupRef,
  type SnapshotRef,
} from '../backup/backup-names.js';
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_NAME,
  type Manifest,
  type ManifestUnprotected,
} from '../backup/manifest.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { ChunkCodec } from '../chunk-store/chunk-codec.js';
import { ChunkStore } from '../chunk-store/chunk-store.js';
import { CairnError, errnoCode, ioError, isCairnError, KeyRequiredError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { isReachedWithoutSymlink } from '../fs/inside-root.js';
import { makeDirectories } from '../fs/make-directories.js';
import { MAX_JSON_FILE_BYTES, readRegularFile, readRegularText } from '../fs/regular-file.js';
import { silentLogger, type Logger } from '../log.js';
import { listLiveLeases, type HeldLease, type LeaseInfo } from '../locks/lease.js';
import { acquireExclusiveLock, type HeldLock } from '../locks/process-lock.js';
import { acquireExclusiveResourceLock, acquireSharedLock } from '../locks/shared-lock.js';
import { BackupSession, groupLockName, snapshotLockName } from './backup-session.js';
import {
  assertSourceMatches,
  readGroupSource,
  recordGroupSource,
  SOURCE_FILE,
  sourceOnThisHost,
  suggestGroupId,
  type RecordedSource,
} from './group-source.js';
import {
  CONFIG_FILE,
  newConfig,
  readConfig,
  writeConfig,
  type DatastoreConfig,
  type DatastoreOptions,
} from './datastore-config.js';
import { withLock } from '../locks/with-lock.js';
import {
  describeSnapshotKey,
  keyForSnapshot,
  snapshotCryptMode,
  snapshotKeyFingerprint,
  type SnapshotKeys,
} from './snapshot-key.js';
import { SnapshotReader } from './snapshot-reader.js';
import type { SnapshotListCache } from './snapshot-list-cache.js';
import { chooseSnapshotTime } from './snapshot-time.js';
import { recordNewStoreEmpty } from '../chunk-store/empty-prefixes.js';
import { makeReserve, RESERVE_FILE, withReserve } from './space-reserve.js';
import { SnapshotWriter } from './snapshot-writer.js';

/** The master key's blob goes in first; if it cannot be written, the snapshot is removed again. */
function withMasterKeyBlob(writer: SnapshotWriter, masterKeyBlob: Buffer): SnapshotWriter {
  try {
    writer.addMasterKeyBlob(masterKeyBlob);
    return writer;
  } catch (err) {
    writer.abort();
    // Not an EEXIST of the snapshot folder: that is the only error beginSnapshot retries on.
    throw isCairnError(err) ? err : ioError('write', join(writer.dir, 'rsa-encrypted.key.blob'), err);
  }
}

export const OWNER_FILE = 'owner';
export const NOTES_FILE = 'notes';
export const PROTECTED_MARKER = '.protected';
const ARCHIVE_FILE = /^(.*\.([fd]idx|blob))$/;

export interface GroupInfo extends BackupGroupRef {
  path: string;
  owner?: string;
  /** What its backups were made from; undefined for a group made before sources were recorded. */
  source?: RecordedSource;
  snapshotCount: number;
  /** Of snapshotCount, those without a manifest: a backup that runs now, or one cut short. */
  unfinishedCount: number;
  /** Time of the newest finished snapshot. */
  lastBackup?: number;
}

export interface SnapshotInfo extends SnapshotRef {
  path: string;
  /** Has a manifest: every archive is complete. */
  finished: boolean;
  protected: boolean;
  /** Archive files present in the directory (indexes and blobs, not tmp files). */
  files: string[];
}

/**
 * A datastore: the chunk store plus the backup tree `type/id/<time>/` (spec 1, 5). Listing reads the
 * directories as they are; nothing is cached, so several processes may use one store.
 */
export class Datastore {
  private constructor(
    readonly root: string,
    readonly config: DatastoreConfig,
    readonly chunks: ChunkStore,
    readonly log: Logger,
  ) {}

  /** Creates a datastore (all 65536 chunk directories, with progress) in an empty or missing directory. */
  static async create(
    root: string,
    options: DatastoreOptions & {
      log?: Logger;
      onProgress?: (done: number, total: number) => void;
      signal?: AbortSignal;
      /** false: no chunk prefix folders made now (ChunkStore.create; a remote's cache makes them on demand). */
      prefixDirs?: boolean;
    } = {},
  ): Promise<Datastore> {
    const abs = resolve(root);
    const config = newConfig(options);
    if (existsSync(join(abs, CONFIG_FILE)))
      throw new CairnError('ALREADY_EXISTS', `${abs} is already a Cairn datastore`);
    let entries: string[] = [];
    try {
      entries = readdirSync(abs);
    } catch (err) {
      const code = errnoCode(err);
      // Not a folder itself is refused here; a file further up is named by makeDirectories below.
      if (code === 'ENOTDIR' && existsSync(abs))
        throw new CairnError('INVALID_ARGUMENT', `${abs} exists and is not a folder`);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw ioError('read', abs, err);
    }
    // A directory with only what an interrupted create leaves behind may be resumed; anything else is refused.
    const foreign = entries.filter((e) => e !== '.chunks' && e !== '.lock' && e !== RESERVE_FILE);
    if (foreign.length > 0) {
      throw new CairnError(
        'ALREADY_EXISTS',
        `${abs} is not empty (found ${foreign.slice(0, 3).join(', ')}); choose an empty or new folder`,
      );
    }
    try {
      makeDirectories(abs);
      writeFileSync(join(abs, '.lock'), '', { flag: 'a', mode: 0o644 });
    } catch (err) {
      if (err instanceof CairnError) throw err;
      throw ioError('create datastore at', abs, err);
    }
    const log = options.log ?? silentLogger;
    const chunks = await ChunkStore.create(abs, {
      syncLevel: config.syncLevel,
      log,
      onProgress: options.onProgress,
      signal: options.signal,
      prefixDirs: options.prefixDirs,
    });
    if (!entries.includes('.chunks')) {
      chunks.clock.measure();
      recordNewStoreEmpty(abs, chunks.clock.now(), log);
    }
    makeReserve(abs);
    writeConfig(abs, config);
    return new Datastore(abs, config, chunks, log);
  }

  static open(root: string, options: { log?: Logger } = {}): Datastore {
    const abs = resolve(root);
    if (!existsSync(abs)) throw new CairnError('NOT_FOUND', `datastore ${abs} does not exist`);
    const config = readConfig(abs);
    const log = options.log ?? silentLogger;
    return new Datastore(abs, config, ChunkStore.open(abs, { syncLevel: config.syncLevel, log }), log);
  }

  groupDir(group: BackupGroupRef): string {
    return join(this.root, assertBackupType(group.type), assertBackupId(group.id));
  }

  snapshotDir(ref: SnapshotRef): string {
    return join(this.groupDir(ref), formatBackupTime(ref.time));
  }

  /** The groups with their counts; `cache` as listSnapshots takes it. */
  listGroups(cache?: SnapshotListCache): GroupInfo[] {
    const groups: GroupInfo[] = [];
    for (const type of BACKUP_TYPES) {
      for (const id of listLayoutDirs(join(this.root, type))) {
        if (!isValidBackupId(id)) continue;
        const group = { type, id };
        const snapshots = this.listSnapshots(group, cache);
        const finished = snapshots.filter((s) => s.finished);
        groups.push({
          type,
          id,
          path: groupPath(group),
          owner: this.readOwner(group),
          source: this.groupSource(group),
          snapshotCount: snapshots.length,
          unfinishedCount: snapshots.length - finished.length,
          lastBackup: finished.length > 0 ? finished[finished.length - 1]!.time : undefined,
        });
      }
    }
    return groups;
  }

  /**
   * The group's snapshots, oldest first; unfinished ones (no manifest) with finished = false. `cache`: a long-lived reader's memory of unchanged snapshot folders
   * (SnapshotListCache), which makes a listing one lstat per snapshot.
   */
  listSnapshots(group: BackupGroupRef, cache?: SnapshotListCache): SnapshotInfo[] {
    const snapshots: SnapshotInfo[] = [];
    const groupDir = this.groupDir(group);
    for (const name of listLayoutDirs(groupDir)) {
      if (!isBackupTimeString(name)) continue;
      const dir = join(groupDir, name);
      const st = cache && lstatSync(dir, { throwIfNoEntry: false });
      const known = st && cache.get(dir, st);
      if (known) {
        snapshots.push(known);
        continue;
      }
      const info = this.readSnapshotFolder(group, name, dir);
      if (!info) continue;
      if (st) cache.set(dir, st, info);
      snapshots.push(info);
    }
    return snapshots.sort((a, b) => a.time - b.time);
  }

  /** One snapshot folder as listSnapshots shows it; undefined if its name is no time or it went meanwhile. */
  private readSnapshotFolder(group: BackupGroupRef, name: string, dir: string): SnapshotInfo | undefined {
    let time: number;
    try {
      time = parseBackupTime(name);
    } catch {
      return undefined;
    }
    const names = listNames(dir);
    if (names === undefined) return undefined; // removed while we listed
    return {
      type: group.type,
      id: group.id,
      time,
      path: `${groupPath(group)}/${name}`,
      finished: names.includes(MANIFEST_NAME),
      protected: names.includes(PROTECTED_MARKER),
      files: names.filter((n) => ARCHIVE_FILE.test(n) && n !== MANIFEST_NAME).sort(),
    };
  }

  snapshotInfo(ref: SnapshotRef): SnapshotInfo {
    const info = this.listSnapshots(ref).find((s) => s.time === ref.time);
    if (!info) throw new CairnError('NOT_FOUND', `snapshot ${snapshotPath(ref)} does not exist in ${this.root}`);
    return info;
  }

  readManifest(ref: SnapshotRef): Manifest {
    const path = join(this.snapshotDir(ref), MANIFEST_NAME);
    let raw: Buffer;
    try {
      raw = readRegularFile(path, MAX_JSON_FILE_BYTES);
    } catch (err) {
      if (err instanceof CairnError) throw err;
      if (errnoCode(err) === 'ENOENT') {
        const exists = existsSync(this.snapshotDir(ref));
        throw new CairnError(
          'NOT_FOUND',
          exists
            ? `snapshot ${snapshotPath(ref)} is unfinished (no manifest)`
            : `snapshot ${snapshotPath(ref)} does not exist in ${this.root}`,
        );
      }
      throw ioError('read', path, err);
    }
    const manifest = decodeManifest(raw, path);
    if (
      manifest['backup-type'] !== ref.type ||
      manifest['backup-id'] !== ref.id ||
      manifest['backup-time'] !== ref.time
    ) {
      throw new CairnError('CORRUPT', `${path}: manifest names a different snapshot`);
    }
    return manifest;
  }

  /**
   * Opens a finished snapshot for reading. An encrypted one needs its key (`crypt`, or one of several): without
   * it, or with another, or with a manifest whose signature does not verify, this throws before anything is read.
   */
  openSnapshot(ref: SnapshotRef, options: { crypt?: SnapshotKeys } = {}): SnapshotReader {
    const manifest = this.readManifest(ref);
    const crypt = keyForSnapshot(manifest, options.crypt, `snapshot ${snapshotPath(ref)}`);
    return new SnapshotReader(ref, this.snapshotDir(ref), manifest, this.chunks, crypt);
  }

  /** How a backup into this store addresses and encodes chunks: the store's compression, and `crypt`'s key. */
  chunkCodec(crypt?: CryptConfig): ChunkCodec {
    return new ChunkCodec(this.config.compression === 'zstd', crypt);
  }

  /** The newest finished snapshot of a group, if any. */
  latestSnapshot(group: BackupGroupRef): SnapshotInfo | undefined {
    return this.listSnapshots(group)
      .filter((s) => s.finished)
      .at(-1);
  }

  /**
   * Starts a snapshot: creates the group (and its owner file) if needed, then the snapshot directory, named by
   * chooseSnapshotTime (after the group's newest, unless that is dated in the future) or by `options.time`,
   * which must be after the newest.
   */
  beginSnapshot(
    group: BackupGroupRef,
    options: {
      time?: number;
      owner?: string;
      session?: BackupSession;
      log?: Logger;
      crypt?: CryptConfig;
      /** With `crypt`: the key for the master key's holder (master-key.ts), stored in the snapshot. */
      masterKeyBlob?: Buffer;
    } = {},
  ): SnapshotWriter {
    const dir = this.groupDir(group);
    try {
      mkdirSync(join(this.root, group.type), { recursive: true });
      mkdirSync(dir);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError('create backup group', dir, err);
    }
    const ownerPath = join(dir, OWNER_FILE);
    if (!existsSync(ownerPath)) {
      try {
        writeFileSync(ownerPath, `${options.owner ?? defaultOwner()}\n`, { flag: 'wx' });
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw ioError('write', ownerPath, err);
      }
    }
    const newest = this.listSnapshots(group).at(-1)?.time;
    const time =
      options.time ?? chooseSnapshotTime(newest, Date.now(), this.chunks.clock.now(), options.log ?? this.log);
    if (options.time !== undefined && newest !== undefined && time <= newest) {
      throw new CairnError(
        'ALREADY_EXISTS',
        `snapshot time ${formatBackupTime(time)} is not after the group's newest ${formatBackupTime(newest)}`,
      );
    }
    const writer = this.createSnapshotDir(group, time, options);
    return options.masterKeyBlob ? withMasterKeyBlob(writer, options.masterKeyBlob) : writer;
  }

  /** The snapshot folder at `time`, or the next free second unless the caller asked for that time. */
  private createSnapshotDir(
    group: BackupGroupRef,
    time: number,
    options: { time?: number; session?: BackupSession; crypt?: CryptConfig },
  ): SnapshotWriter {
    for (;;) {
      const ref = { type: group.type, id: group.id, time };
      const snapDir = this.snapshotDir(ref);
      try {
        mkdirSync(snapDir);
        try {
          options.session?.holdSnapshot(ref, false);
        } catch (err) {
          rmdirSync(snapDir);
          throw err;
        }
        return new SnapshotWriter(ref, snapDir, this.chunks, options.session, options.crypt);
      } catch (err) {
        // Another writer took this second: take the next one, unless the caller asked for this time.
        if (errnoCode(err) !== 'EEXIST' || options.time !== undefined) throw ioError('create snapshot', snapDir, err);
        time++;
      }
    }
  }

  /**
   * Starts a backup's locks: the group exclusively (one backup per group, across processes) and a writer
   * lease for GC. The caller holds its base with `session.holdSnapshot` and releases the session at the end.
   */
  startBackup(group: BackupGroupRef, purpose = `backup of ${groupPath(group)}`): BackupSession {
    assertBackupType(group.type);
    assertBackupId(group.id);
    return BackupSession.start(this.root, group, this.log, purpose);
  }

  /**
   * Refuses a plain backup into a group whose newest snapshot is encrypted: a forgotten key must not put the
   * next backup of that data on disk in the clear (KEY_REQUIRED, naming the group's key). A backup under
   * another key (a new key) is allowed; it simply has no base.
   */
  assertGroupEncryption(group: BackupGroupRef, crypt: CryptConfig | undefined): void {
    if (crypt) return;
    const newest = this.latestSnapshot(group);
    if (!newest) return;
    let manifest: Manifest;
    try {
      manifest = this.readManifest(newest);
    } catch {
      return; // a damaged newest snapshot says nothing; the backup goes on without it as its base
    }
    if (snapshotCryptMode(manifest) !== 'encrypt') return;
    throw new KeyRequiredError(
      snapshotKeyFingerprint(manifest),
      `${groupPath(group)} holds encrypted backups (${describeSnapshotKey(manifest)}): back it up with that key, or into a group of its own`,
    );
  }

  /**
   * Refuses a backup of `paths` (resolved) into a group that records another source, unless `allowOtherSource`;
   * called under the backup's group lock, before anything is read.
   */
  assertGroupSource(group: BackupGroupRef, paths: string[], allowOtherSource = false, crypt?: CryptConfig): void {
    assertSourceMatches(this.groupDir(group), group, sourceOnThisHost(paths), allowOtherSource, crypt);
  }

  /** Records `paths` as the group's source once a backup of them finished; under a key sealed (group-source.ts), so the paths are not on disk in the clear. */
  recordGroupSource(group: BackupGroupRef, paths: string[], log: Logger = this.log, crypt?: CryptConfig): void {
    recordGroupSource(this.groupDir(group), group, sourceOnThisHost(paths), log, crypt);
  }

  /** The recorded source of a group (undefined if none or unreadable: listings do not fail on it). */
  groupSource(group: BackupGroupRef): RecordedSource | undefined {
    try {
      return readGroupSource(this.groupDir(group));
    } catch {
      return undefined;
    }
  }

  /** An id of its own for another source whose name derives `id`. */
  suggestGroupId(group: BackupGroupRef, sourcePath: string): string {
    return suggestGroupId(join(this.root, group.type), group.id, sourcePath);
  }

  /** The group alone, exclusively (deleting a group); on a full disk from the store's reserve. */
  lockGroup(group: BackupGroupRef, purpose: string): HeldLock {
    const name = groupLockName({ type: assertBackupType(group.type), id: assertBackupId(group.id) });
    return withReserve(this.root, this.log, () => acquireExclusiveLock(this.root, name, purpose, this.log));
  }

  /** Readers of a snapshot (restore, browse, verify): any number, but no forget meanwhile. */
  lockSnapshotShared(ref: SnapshotRef, purpose: string): HeldLease {
    return acquireSharedLock(this.root, snapshotLockName(this.checkedRef(ref)), purpose, this.log);
  }

  /**
   * Forget and prune: alone with the snapshot; fails (naming the holder) while a backup or reader holds it. On a
   * full disk the locks are taken from the store's reserve (space-reserve.ts): freeing space must work then.
   */
  lockSnapshotExclusive(ref: SnapshotRef, purpose: string): HeldLock {
    const name = snapshotLockName(this.checkedRef(ref));
    return withReserve(this.root, this.log, () => acquireExclusiveResourceLock(this.root, name, purpose, this.log));
  }

  /** Backups and other chunk writers that run now, in any process. */
  liveWriters(): LeaseInfo[] {
    return listLiveLeases(this.root, 'writer', this.log);
  }

  private checkedRef(ref: SnapshotRef): SnapshotRef {
    assertBackupType(ref.type);
    assertBackupId(ref.id);
    formatBackupTime(ref.time);
    return ref;
  }

  /**
   * Changes the unsigned part of a finished snapshot's manifest (verify state, notes) under the manifest
   * lock, with an atomic replace; the archive list and anything signed are left as they are.
   */
  updateManifest(ref: SnapshotRef, change: (unprotected: ManifestUnprotected) => void): Manifest {
    const lock = acquireExclusiveLock(
      this.root,
      `manifest.${snapshotLockName(this.checkedRef(ref))}`,
      `manifest update of ${snapshotPath(ref)}`,
      this.log,
      { waitMs: 5_000 },
    );
    return withLock(lock, () => {
      const manifest = this.readManifest(ref);
      change(manifest.unprotected);
      writeFileAtomicSync(join(this.snapshotDir(ref), MANIFEST_NAME), encodeManifest(manifest), {
        fsync: this.config.syncLevel !== 'none',
      });
      return manifest;
    });
  }

  setSnapshotNotes(ref: SnapshotRef, notes: string): void {
    this.updateManifest(ref, (u) => {
      u.notes = notes;
    });
  }

  readOwner(group: BackupGroupRef): string | undefined {
    try {
      return readRegularText(join(this.groupDir(group), OWNER_FILE), 64 * 1024).trim();
    } catch {
      return undefined;
    }
  }

  readGroupNotes(group: BackupGroupRef): string {
    try {
      return readRegularText(join(this.groupDir(group), NOTES_FILE));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return '';
      throw ioError('read notes of', groupPath(group), err);
    }
  }

  writeGroupNotes(group: BackupGroupRef, notes: string): void {
    if (!existsSync(this.groupDir(group)))
      throw new CairnError('NOT_FOUND', `group ${groupPath(group)} does not exist`);
    writeFileAtomicSync(join(this.groupDir(group), NOTES_FILE), notes);
  }

  isProtected(ref: SnapshotRef): boolean {
    return existsSync(join(this.snapshotDir(ref), PROTECTED_MARKER));
  }

  setProtected(ref: SnapshotRef, value: boolean): void {
    const marker = join(this.snapshotDir(ref), PROTECTED_MARKER);
    if (!existsSync(this.snapshotDir(ref)))
      throw new CairnError('NOT_FOUND', `snapshot ${snapshotPath(ref)} does not exist`);
    // An unfinished snapshot is a running backup's or a crashed one's: protecting it would only keep GC from
    // cleaning it up.
    if (value && !this.snapshotInfo(ref).finished) {
      throw new CairnError(
        'INVALID_ARGUMENT',
        `snapshot ${snapshotPath(ref)} is not finished; only finished snapshots can be protected`,
      );
    }
    try {
      if (value) writeFileSync(marker, '');
      else unlinkSync(marker);
    } catch (err) {
      if (!value && errnoCode(err) === 'ENOENT') return;
      throw ioError(value ? 'protect' : 'unprotect', snapshotPath(ref), err);
    }
  }

  /** Removes an empty group directory (after its last snapshot went); a group with snapshots is kept. */
  removeGroupIfEmpty(group: BackupGroupRef): boolean {
    if (this.listSnapshots(group).length > 0) return false;
    const dir = this.groupDir(group);
    if (!isReachedWithoutSymlink(this.root, dir)) return false;
    // Only owner, notes and source may be left: anything else means the group is not ours to remove.
    const ownFiles = [OWNER_FILE, NOTES_FILE, SOURCE_FILE];
    if ((listNames(dir) ?? []).some((n) => !ownFiles.includes(n))) return false;
    for (const f of ownFiles) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* absent */
      }
    }
    try {
      rmdirSync(dir);
      return true;
    } catch {
      return false;
    }
  }
}

function defaultOwner(): string {
  try {
    return `${userInfo().username}@local`;
  } catch {
    return 'user@local';
  }
}

/**
 * The folders in one of the store's own folders (a type folder, a group): none if that folder is a symlink, and
 * only real folders in it, never symlinks to folders. A store's layout holds no symlinks; one planted there is
 * not followed (GC and forget say so when they meet it).
 */
function listLayoutDirs(dir: string): string[] {
  if (isSymlink(dir)) return [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw ioError('list', dir, err);
  }
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false; // ENOTDIR and the like: nothing to list there anyway
  }
}

function listNames(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw ioError('list', dir, err);
  }
}
