import { FolderArchiveReader } from '../archive/folder-reader.js';
import type { Manifest } from './manifest.js';

/** What listings show of a snapshot, from its manifest: the app's table and `cairn snapshots` alike. */
export interface SnapshotSummary {
  kind: 'folder' | 'image' | 'other';
  /** Content bytes (a folder's files, an image's size). */
  size?: number;
  files?: number;
  /** Bytes this backup added to the store (compressed), and bytes it found there already. */
  newBytes?: number;
  dedupBytes?: number;
  /** A folder backup's bytes of unchanged files, taken over from its base without reading. */
  reusedBytes?: number;
  verifyState?: 'ok' | 'failed';
  notes?: string;
}

export function snapshotKind(files: readonly string[]): SnapshotSummary['kind'] {
  if (FolderArchiveReader.hasFolderArchive(files)) return 'folder';
  return files.some((f) => f.endsWith('.img.fidx')) ? 'image' : 'other';
}

export function summarizeManifest(m: Manifest): SnapshotSummary {
  const u = m.unprotected;
  const folder =
    typeof u['cairn-backup'] === 'object' && u['cairn-backup'] !== null
      ? (u['cairn-backup'] as Record<string, unknown>)
      : undefined;
  const stats = u.chunk_upload_stats;
  const image = m.files.find((f) => f.filename.endsWith('.img.fidx'));
  return {
    kind: snapshotKind(m.files.map((f) => f.filename)),
    size: folder ? num(folder.bytes) : image?.size,
    files: folder ? num(folder.files) : undefined,
    newBytes: folder ? num(folder.newBytes) : stats?.compressed_size,
    dedupBytes: folder ? num(folder.dedupBytes) : stats && image ? Math.max(0, image.size - stats.size) : undefined,
    reusedBytes: folder ? num(folder.bytesReused) : undefined,
    verifyState: u.verify_state?.state,
    notes: typeof u.notes === 'string' ? u.notes : undefined,
  };
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
