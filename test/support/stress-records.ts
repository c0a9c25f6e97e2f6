import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StressOptions {
  store: string;
  /** backup: the tree to change and back up, the group id, rounds, and where to append snapshot records. */
  src?: string;
  id?: string;
  rounds?: number;
  seed?: string;
  records?: string;
  /** gc / prune: loop until this file exists (or forever, until killed). */
  stopFile?: string;
  /** prune: how many snapshots of each group it keeps (default 2). */
  keepLast?: number;
}

/** What a finished backup held: every file's SHA-256 at the time it was backed up. */
export interface SnapshotRecord {
  snapshot: string;
  files: Record<string, string>;
}

export function treeHashes(src: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[path.slice(src.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}
