/**
 * The data the host hands the renderer. Plain JSON shapes only (they cross IPC and HTTP), no Node or DOM types.
 */

export type BackupType = 'ct' | 'host' | 'vm';

export interface GroupRef {
  type: BackupType;
  id: string;
}

export interface SnapshotRef extends GroupRef {
  /** Backup time, epoch seconds (UTC). */
  time: number;
}

export type Compression = 'zstd' | 'none';

export interface AppInfo {
  host: 'electron' | 'web';
  version: string;
  platform: string;
  homeDir: string;
  /** The host can show native folder and save dialogs (Electron); otherwise the in-app folder browser is used. */
  nativeDialogs: boolean;
  /** Dropped folders' paths are known (Electron's webUtils); a browser cannot tell them. */
  dropPaths: boolean;
  /** Maintenance this build provides (all of it since core's GC, prune and verify landed). */
  maintenance: { gc: boolean; prune: boolean; verify: boolean; forget: boolean };
}

export interface StoreSummary {
  path: string;
  chunkSize: number;
  compression: Compression;
  syncLevel: string;
  created: string;
  groups: number;
}

export interface GroupRow extends GroupRef {
  /** `type/id` */
  path: string;
  owner?: string;
  /** What its backups are made from ("/home/ann/Code/project", "… on laptop"); absent for an older group. */
  source?: string;
  snapshotCount: number;
  /** Of snapshotCount, those not finished: a backup running now, or one cut short (no manifest). */
  unfinishedCount?: number;
  /** Epoch seconds of the newest finished snapshot. */
  lastBackup?: number;
  /** Content bytes of the newest finished snapshot. */
  lastSize?: number;
  notes: string;
  /** The newest snapshot is encrypted, with the key of this fingerprint (from its manifest: no key needed). */
  encrypted?: boolean;
  keyFingerprint?: string;
}

/** What listings show of a snapshot from its manifest: the app's table and `cairn snapshots` alike. */
export interface SnapshotSummary {
  kind: 'folder' | 'image' | 'other';
  /** Content bytes (files' sizes for folders, the image size for images). */
  size?: number;
  files?: number;
  /** Bytes newly written to the chunk store by this backup (encoded). */
  newBytes?: number;
  /** Bytes read whose chunks the store already had. */
  dedupBytes?: number;
  /** Bytes of unchanged files reused from the previous snapshot without reading them. */
  reusedBytes?: number;
  /** Entries the backup could not read although they were there: the snapshot lacks them. */
  leftOut?: number;
  verifyState?: 'ok' | 'failed';
  notes?: string;
}

export interface SnapshotRow extends SnapshotRef, SnapshotSummary {
  /** `type/id/time` */
  path: string;
  finished: boolean;
  protected: boolean;
  archives: string[];
  /** Encrypted, with the key of this fingerprint (read from the manifest, which needs no key). */
  encrypted?: boolean;
  keyFingerprint?: string;
}

export type EntryKindName = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface EntryRow {
  name: string;
  /** Archive path from the snapshot's root, e.g. `docs/report.txt`. */
  path: string;
  kind: EntryKindName;
  size: number;
  /** Permission bits as octal text. */
  mode: string;
  mtime: string;
  target?: string;
  digest?: string;
}

/** One page of a folder's entries (sorted by name), and how many it has in all. */
export interface FolderPage {
  entries: EntryRow[];
  offset: number;
  total: number;
}

export interface DiffRow {
  path: string;
  change: 'added' | 'removed' | 'changed';
  kind: EntryKindName;
  sizeBefore?: number;
  sizeAfter?: number;
  what?: string[];
}

export interface DiffResult {
  from: string;
  to: string;
  entries: DiffRow[];
  added: number;
  removed: number;
  changed: number;
  bytesAdded: number;
  bytesRemoved: number;
}

/** Whether a folder may be backed up into a group: a group records its source and refuses another. */
export interface SourceCheck {
  /** The group does not exist yet, records this folder, or records none (an older group). */
  matches: boolean;
  /** What the group records, if it records another source. */
  recorded?: string;
  /** An id of its own for this folder, if it does not match. */
  suggestedId?: string;
}

export interface ExcludePreviewResult {
  paths: { path: string; isDirectory: boolean; bytes: number }[];
  excluded: number;
  excludedBytes: number;
  files: number;
  bytes: number;
  truncated: boolean;
  /** Entries a backup would leave out (cannot be listed, read or stored), the first named with the reason. */
  leftOut: { count: number; named: { path: string; reason: string }[] };
}

/** What a restore into a folder would meet there (nothing written): restore-preview.ts in core. */
export interface RestorePreviewResult {
  /** Files and symlinks with nothing at their place: the restore creates them. */
  added: number;
  /** There as backed up (same size and mtime; a symlink to the same target). */
  same: number;
  /** There and different, or something else in the way: kept, or replaced with overwrite. */
  differ: number;
  /** The first of those, as paths under the target. */
  differing: string[];
}

export interface FolderListing {
  path: string;
  parent?: string;
  folders: { name: string; path: string }[];
  /** Files in the folder (counted so the user recognises the place). */
  fileCount: number;
  /** The files themselves, by name, when the request asked for them (choosing a disk image); at most MAX_LISTED_FILES. */
  files?: { name: string; path: string; size: number }[];
  /** More files than listed (hidden ones are not listed, nor counted here). */
  filesTruncated?: boolean;
  /** The places Cairn may use (allowed roots that exist), to jump to. */
  places?: { name: string; path: string }[];
}

/** What the store holds on disk now: its chunk files (compressed), shared by every snapshot. */
export interface StoreUsage {
  chunks: number;
  bytes: number;
}

/** The store's size at one moment (epoch ms): its chunk files counted after a backup or GC. */
export interface UsageSample extends StoreUsage {
  time: number;
}

/** One snapshot as the dashboard charts it. */
export interface ActivityPoint {
  /** Snapshot time, epoch seconds. */
  time: number;
  /** `type/id` */
  group: string;
  size?: number;
  newBytes?: number;
}

/** What the dashboard of an open store shows beside its plans. */
export interface StoreDashboard {
  /** The filesystem the store is on; absent where it cannot be asked. */
  disk?: { freeBytes: number; totalBytes: number };
  sizeHistory: UsageSample[];
  /** The newest snapshots of every group (up to 500), oldest first. */
  activity: ActivityPoint[];
}

/** The last garbage collection's counters (PBS's GarbageCollectionStatus, as core saves it). */
export interface GcSummary {
  startedAt: string;
  durationMs: number;
  removedChunks: number;
  removedBytes: number;
  /** Unused chunks too recent to remove in that run. */
  pendingChunks: number;
  pendingBytes: number;
  /** Chunks in use after the run. */
  diskChunks: number;
  diskBytes: number;
  indexFileCount: number;
  indexDataBytes: number;
  dedupFactor: number;
  missingChunks: number;
  completed: boolean;
}

/**
 * What the top bar knows of a store's last garbage collection: `never` when the store has no `.gc-status`,
 * `unknown` when it has one Cairn cannot read (PBS's, in kebab-case, or a damaged one), else that run's counters.
 */
export type LastGc = { kind: 'never' } | { kind: 'unknown' } | { kind: 'ran'; summary: GcSummary };

/** PBS's keep rules (keep-rules.ts); 0 or missing means unset. */
export type { KeepOptions } from './keep-rules.js';

/** Prune's decision for one snapshot, and (for a real run) what happened to it. */
export interface PruneRow {
  path: string;
  time: number;
  protected: boolean;
  mark: 'keep' | 'keep-protected' | 'keep-partial' | 'keep-future' | 'remove';
  reason: string;
  outcome: 'kept' | 'removed' | 'would-remove' | 'failed';
  error?: string;
}
