import { BACKUP_TYPES, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Bucket } from './bucket.js';
import { CHUNKS_PREFIX, chunkOfKey, MANIFEST_NAME, snapshotFileOfKey } from './bucket-layout.js';

export interface RemoteSnapshot extends SnapshotRef {
  path: string;
  /** Its manifest is there: every file it lists was uploaded before it. */
  finished: boolean;
  files: { name: string; size: number }[];
}

/** The snapshots in a remote, from one listing of each backup type's prefix (never of `.chunks/`), oldest first. */
export async function listRemoteSnapshots(bucket: Bucket, signal?: AbortSignal): Promise<RemoteSnapshot[]> {
  const byPath = new Map<string, RemoteSnapshot>();
  for (const type of BACKUP_TYPES) {
    for await (const page of bucket.list(`${type}/`, signal)) {
      for (const object of page) {
        const parsed = snapshotFileOfKey(object.key);
        if (!parsed) continue;
        const path = snapshotPath(parsed.ref);
        let snap = byPath.get(path);
        if (!snap) byPath.set(path, (snap = { ...parsed.ref, path, finished: false, files: [] }));
        if (parsed.file === MANIFEST_NAME) snap.finished = true;
        else snap.files.push({ name: parsed.file, size: object.size });
      }
    }
  }
  return [...byPath.values()].sort(
    (a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id) || a.time - b.time,
  );
}

/** Every chunk digest in the remote, from one paged listing of `.chunks/` (no request per chunk). */
export async function listRemoteChunks(bucket: Bucket, signal?: AbortSignal): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const page of bucket.list(CHUNKS_PREFIX, signal)) {
    for (const object of page) {
      const digest = chunkOfKey(object.key);
      if (digest) out.add(digest);
    }
  }
  return out;
}
