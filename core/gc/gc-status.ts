import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { readRegularText } from '../fs/regular-file.js';
import type { Logger } from '../log.js';

export const GC_STATUS_FILE = '.gc-status';

/** PBS's GarbageCollectionStatus counters (spec 7.4), plus what Cairn adds to explain a run. */
export interface GcStatus {
  startedAt: string;
  durationMs: number;
  /** Unused chunks stamped before this were deleted. */
  cutoff: string;
  stampCheck: string;
  writersAtStart: number;
  indexFileCount: number;
  /** Logical bytes of every index: the data the store holds before deduplication. */
  indexDataBytes: number;
  diskChunks: number;
  diskBytes: number;
  removedChunks: number;
  removedBytes: number;
  /** Unused chunks too new to delete in this run (a running backup's, or inside the safety margin). */
  pendingChunks: number;
  pendingBytes: number;
  removedBad: number;
  stillBad: number;
  /** Crash leftovers removed: chunk and index tmp files, interrupted forgets. */
  removedTmp: number;
  /** Unfinished snapshots left by backups that crashed. */
  removedUnfinished: number;
  /** Sweep candidates a writer touched between the sweep's two looks, and so kept. */
  keptOnSecondLook: number;
  /** Chunk folders not listed: empty at the last GC and untouched since (docs/GC.md "Sweep"). */
  prefixesSkipped: number;
  missingChunks: number;
  /** Index files nobody can read (damaged, not regular files): passed over, their chunks not kept for them. */
  unreadableIndexes: number;
  cacheStats: { hits: number; misses: number };
  dedupFactor: number;
  completed: boolean;
}

/** Saved with an atomic replace; a failure to save is logged, not fatal (the run itself succeeded). */
export function writeGcStatus(root: string, status: GcStatus, log: Logger): void {
  try {
    writeFileAtomicSync(join(root, GC_STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`);
  } catch (err) {
    log.warn(`could not save ${GC_STATUS_FILE}: ${(err as Error).message}`);
  }
}

const count = z.number().finite().nonnegative();
/** What a reader of `.gc-status` relies on; counters a newer Cairn adds are allowed, a file of another shape is not. */
const GcStatusSchema = z.looseObject({
  startedAt: z.string(),
  durationMs: count,
  cutoff: z.string(),
  stampCheck: z.string(),
  writersAtStart: count,
  indexFileCount: count,
  indexDataBytes: count,
  diskChunks: count,
  diskBytes: count,
  removedChunks: count,
  removedBytes: count,
  pendingChunks: count,
  pendingBytes: count,
  removedBad: count,
  stillBad: count,
  removedTmp: count,
  removedUnfinished: count,
  keptOnSecondLook: count,
  prefixesSkipped: count.default(0),
  missingChunks: count,
  unreadableIndexes: count.default(0),
  cacheStats: z.object({ hits: count, misses: count }),
  dedupFactor: z.number().finite(),
  completed: z.boolean(),
});

/**
 * The last GC's status, validated: undefined when there is none, or when the file is not one Cairn wrote (PBS
 * keeps its own in kebab-case, a damaged file is not JSON) — a status that cannot be read is no status, never a
 * crash of whoever shows it.
 */
export function readGcStatus(root: string): GcStatus | undefined {
  try {
    const parsed = GcStatusSchema.safeParse(JSON.parse(readRegularText(join(root, GC_STATUS_FILE), 1024 * 1024)));
    return parsed.success ? (parsed.data as GcStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the store has a `.gc-status` at all: when readGcStatus reads none, the last GC is then unknown, not "never". */
export function hasGcStatusFile(root: string): boolean {
  return lstatSync(join(root, GC_STATUS_FILE), { throwIfNoEntry: false }) !== undefined;
}
