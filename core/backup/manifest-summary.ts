import { FolderArchiveReader } from '../archive/folder-reader.js';
import type { SnapshotSummary } from '../../contract/model.js';
import type { Manifest } from './manifest.js';

export function snapshotKind(files: readonly string[]): SnapshotSummary['kind'] {
  if (FolderArchiveReader.hasFolderArchive(files)) return 'folder';
  return files.some((f) => f.endsWith('.img.fidx')) ? 'image' : 'other';
}

export function summarizeManifest(m: Manifest): SnapshotSummary {
  const u = m.unprotected;
  const note =
    typeof u['cairn-backup'] === 'object' && u['cairn-backup'] !== null
      ? (u['cairn-backup'] as Record<string, unknown>)
      : undefined;
  const folder = note?.kind === 'images' ? undefined : note;
  const stats = u.chunk_upload_stats;
  const images = m.files.filter((f) => f.filename.endsWith('.img.fidx'));
  const imageSize = images.length > 0 ? images.reduce((n, f) => n + f.size, 0) : undefined;
  // A plan's images beside its folders (core/plans/plan-backup.ts): their figures add to the folders'.
  const beside = (key: string): number => imageNotes(folder).reduce((n, i) => n + (num(i[key]) ?? 0), 0);
  return {
    kind: snapshotKind(m.files.map((f) => f.filename)),
    size: folder ? plus(num(folder.bytes), imageSize) : imageSize,
    files: folder ? num(folder.files) : undefined,
    newBytes: folder ? plus(num(folder.newBytes), beside('newBytes')) : stats?.compressed_size,
    dedupBytes: folder
      ? plus(num(folder.dedupBytes), beside('dedupBytes'))
      : stats && imageSize !== undefined
        ? Math.max(0, imageSize - stats.size)
        : undefined,
    reusedBytes: folder ? num(folder.bytesReused) : undefined,
    leftOut: folder ? num(folder.leftOut) : undefined,
    verifyState: u.verify_state?.state,
    notes: typeof u.notes === 'string' ? u.notes : undefined,
  };
}

/** The images a folder backup's note lists beside its folders (none for most). */
function imageNotes(note: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const images = note?.images;
  return Array.isArray(images)
    ? images.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
    : [];
}

function plus(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? undefined : a + (b ?? 0);
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
