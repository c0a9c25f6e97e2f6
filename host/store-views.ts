import { statSync } from 'node:fs';
import { join } from 'node:path';
import type {
  ActivityPoint,
  DiffResult,
  FolderPage,
  GroupRef,
  GroupRow,
  LastGc,
  SnapshotRef,
  SnapshotRow,
  StoreSummary,
} from '../contract/model.js';
import { EntryKind } from '../core/archive/archive-format.js';
import { entryInfo } from '../core/archive/entry-info.js';
import { FolderArchiveReader } from '../core/archive/folder-reader.js';
import { diffSnapshots } from '../core/archive/snapshot-diff.js';
import { MANIFEST_NAME, type Manifest } from '../core/backup/manifest.js';
import { snapshotKind, summarizeManifest } from '../core/backup/manifest-summary.js';
import { Datastore, type SnapshotInfo } from '../core/datastore/datastore.js';
import { CONFIG_FILE } from '../core/datastore/datastore-config.js';
import { describeSource } from '../core/datastore/group-source.js';
import { SnapshotListCache } from '../core/datastore/snapshot-list-cache.js';
import { hasGcStatusFile, readGcStatus } from '../core/gc/gc-status.js';
import { CairnError, isCairnError } from '../core/errors.js';
import { AppError } from './app-errors.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import { snapshotCryptMode, snapshotKeyFingerprint } from '../core/datastore/snapshot-key.js';

/** Opens a store for one request; a path without a store is STORE_MISSING, so the UI can offer to create one. */
export function openStore(path: string): Datastore {
  try {
    return Datastore.open(path);
  } catch (err) {
    if (isCairnError(err, 'NOT_FOUND') || isCairnError(err, 'NOT_A_DATASTORE')) {
      throw new AppError('STORE_MISSING', `no Cairn datastore at ${path} (${CONFIG_FILE} not found)`);
    }
    throw err;
  }
}

export function storeSummary(store: Datastore): StoreSummary {
  return {
    path: store.root,
    chunkSize: store.config.chunkSize,
    compression: store.config.compression,
    syncLevel: store.config.syncLevel,
    created: store.config.created,
    groups: store.listGroups().length,
  };
}

/** The last GC's counters; a `.gc-status` Cairn cannot read is "unknown", only a missing one "never" (as `cairn status`). */
export function lastGc(store: Datastore): LastGc {
  const status = readGcStatus(store.root);
  if (!status) return { kind: hasGcStatusFile(store.root) ? 'unknown' : 'never' };
  return {
    kind: 'ran',
    summary: {
      startedAt: status.startedAt,
      durationMs: status.durationMs,
      removedChunks: status.removedChunks,
      removedBytes: status.removedBytes,
      pendingChunks: status.pendingChunks,
      pendingBytes: status.pendingBytes,
      diskChunks: status.diskChunks,
      diskBytes: status.diskBytes,
      indexFileCount: status.indexFileCount,
      indexDataBytes: status.indexDataBytes,
      dedupFactor: status.dedupFactor,
      missingChunks: status.missingChunks,
      completed: status.completed,
    },
  };
}

type ManifestSummary = Pick<
  SnapshotRow,
  | 'kind'
  | 'size'
  | 'files'
  | 'newBytes'
  | 'dedupBytes'
  | 'reusedBytes'
  | 'verifyState'
  | 'notes'
  | 'encrypted'
  | 'keyFingerprint'
>;

/** Whether a snapshot is encrypted and with which key: the manifest says so in the clear, no key needed. */
function encryptionOf(manifest: Manifest): Pick<SnapshotRow, 'encrypted' | 'keyFingerprint'> {
  if (snapshotCryptMode(manifest) !== 'encrypt') return {};
  const keyFingerprint = snapshotKeyFingerprint(manifest);
  return keyFingerprint === undefined ? { encrypted: true } : { encrypted: true, keyFingerprint };
}

/**
 * What the snapshot table shows from each manifest. Manifests are read once and cached by path and mtime, so a
 * group of 10,000 snapshots lists quickly the second time; a changed manifest (verify, notes) is read again.
 */
export class SnapshotViews {
  private readonly cache = new Map<string, { mtimeMs: number; summary: ManifestSummary }>();
  /** Unchanged snapshot folders (a group of 100,000 listed again in one lstat each), and their rows. */
  private readonly folders = new SnapshotListCache();
  private readonly rows = new WeakMap<SnapshotInfo, SnapshotRow>();

  groupRows(store: Datastore): GroupRow[] {
    return store.listGroups(this.folders).map((g) => {
      const latest =
        g.lastBackup === undefined ? undefined : this.summary(store, { type: g.type, id: g.id, time: g.lastBackup });
      return {
        type: g.type,
        id: g.id,
        path: g.path,
        owner: g.owner,
        source: g.source && describeSource(g.source),
        snapshotCount: g.snapshotCount,
        unfinishedCount: g.unfinishedCount,
        lastBackup: g.lastBackup,
        lastSize: latest?.size,
        notes: store.readGroupNotes(g),
        ...(latest?.encrypted ? { encrypted: true, keyFingerprint: latest.keyFingerprint } : {}),
      };
    });
  }

  groupRow(store: Datastore, group: GroupRef): GroupRow {
    const row = this.groupRows(store).find((g) => g.type === group.type && g.id === group.id);
    if (!row) throw new CairnError('NOT_FOUND', `group ${group.type}/${group.id} does not exist`);
    return row;
  }

  snapshotRows(store: Datastore, group: GroupRef): SnapshotRow[] {
    return store.listSnapshots(group, this.folders).map((s) => this.rowOf(store, s));
  }

  /** A row stands while listSnapshots hands out the same info: its folder, manifest included, is unchanged. */
  private rowOf(store: Datastore, s: SnapshotInfo): SnapshotRow {
    let row = this.rows.get(s);
    if (!row) {
      row = this.row(store, s);
      this.rows.set(s, row);
    }
    return row;
  }

  snapshotRow(store: Datastore, ref: SnapshotRef): SnapshotRow {
    return this.row(store, store.snapshotInfo(ref));
  }

  private row(store: Datastore, s: SnapshotInfo): SnapshotRow {
    const summary: ManifestSummary = s.finished ? this.summary(store, s) : { kind: snapshotKind(s.files) };
    return {
      type: s.type,
      id: s.id,
      time: s.time,
      path: s.path,
      finished: s.finished,
      protected: s.protected,
      archives: s.files,
      ...summary,
    };
  }

  private summary(store: Datastore, ref: SnapshotRef): ManifestSummary {
    const file = join(store.snapshotDir(ref), MANIFEST_NAME);
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return { kind: 'other' };
    }
    const cached = this.cache.get(file);
    if (cached && cached.mtimeMs === mtimeMs) return cached.summary;
    let summary: ManifestSummary;
    try {
      const manifest = store.readManifest(ref);
      summary = { ...summarizeManifest(manifest), ...encryptionOf(manifest) };
    } catch (err) {
      if (!isCairnError(err)) throw err;
      summary = { kind: 'other', notes: `unreadable manifest: ${err.message}` };
    }
    this.cache.set(file, { mtimeMs, summary });
    return summary;
  }
}

/** The tree's page size when a request names none. */
export const DEFAULT_PAGE = 2000;

/** A page of one folder of a snapshot, for the lazy tree. Only the page's entries are converted. */
/** Snapshots the dashboard charts: the newest 100 of each group, the newest 500 in all, oldest first. */
export function storeActivity(views: SnapshotViews, store: Datastore): ActivityPoint[] {
  const points = store.listGroups().flatMap((g) =>
    views
      .snapshotRows(store, g)
      .filter((r) => r.finished)
      .slice(-100)
      .map((r) => ({ time: r.time, group: `${g.type}/${g.id}`, size: r.size, newBytes: r.newBytes })),
  );
  return points.sort((a, b) => a.time - b.time).slice(-500);
}

export function browseFolder(reader: FolderArchiveReader, path: string, offset = 0, limit = DEFAULT_PAGE): FolderPage {
  const prefix = path
    .split('/')
    .filter((p) => p.length > 0)
    .join('/');
  const page = reader.listPage(prefix, offset, limit);
  const entries = page.entries.map((e) => {
    const info = entryInfo(e);
    return { ...info, path: prefix === '' ? info.name : `${prefix}/${info.name}` };
  });
  return { entries, offset, total: page.total };
}

/** Diff rows are capped: the counts and byte totals stay exact. */
export const MAX_DIFF_ROWS = 50_000;

export function snapshotDiff(
  store: Datastore,
  from: SnapshotRef,
  to: SnapshotRef,
  keys?: readonly CryptConfig[],
): DiffResult {
  const diff = diffSnapshots(store, from, to, keys);
  return {
    ...diff,
    entries: diff.entries.slice(0, MAX_DIFF_ROWS).map((e) => ({ ...e, what: e.what ? [...e.what] : undefined })),
  };
}

/** One file of a snapshot as a stream of verified slices (the browser's download). */
export function openSnapshotFile(
  store: Datastore,
  ref: SnapshotRef,
  path: string,
  keys?: readonly CryptConfig[],
): { name: string; size: number; slices: Generator<Buffer> } {
  const reader = new FolderArchiveReader(store.openSnapshot(ref, { crypt: keys }));
  const entry = reader.get(path);
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink)
    throw new CairnError('INVALID_ARGUMENT', `${path} is not a file`);
  return { name: entry.name.toString(), size: entry.size, slices: reader.fileContent(entry) };
}
