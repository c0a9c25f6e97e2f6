import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { Datastore, SnapshotInfo } from '../../core/datastore/datastore.js';
import { openIndex } from '../../core/index/index-reader.js';

/** Moves every file stamp in the chunk store back by `ms`, as if the chunks had been written that long ago. */
export function ageChunkStore(store: Datastore, ms: number): void {
  const then = new Date(Date.now() - ms);
  for (const entry of store.chunks.iterate()) utimesSync(entry.path, then, then);
}

/** The digests (hex) every index of a snapshot names. */
export function snapshotDigests(store: Datastore, snap: SnapshotInfo): Set<string> {
  const out = new Set<string>();
  for (const file of snap.files.filter((f) => /\.[fd]idx$/.test(f))) {
    const index = openIndex(join(store.snapshotDir(snap), file));
    for (let i = 0; i < index.chunkCount; i++) out.add(index.digest(i).toString('hex'));
  }
  return out;
}

/** Chunk digests on disk (regular chunk files only). */
export function chunksOnDisk(store: Datastore): Set<string> {
  const out = new Set<string>();
  for (const entry of store.chunks.iterate()) if (entry.kind === 'chunk') out.add(entry.digest);
  return out;
}

/** Names in the chunk store's prefix directories matching a pattern (leftovers, .bad copies, parked files). */
export function chunkDirNames(store: Datastore, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of store.chunks.iterate()) if (pattern.test(entry.name)) out.push(entry.name);
  return out;
}

export function listRecursive(dir: string): string[] {
  return readdirSync(dir, { recursive: true }) as string[];
}
