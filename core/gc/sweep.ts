import { existsSync, lstatSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { chunkFileKind, GC_PARKED_SUFFIX, prefixDirName } from '../chunk-store/chunk-store.js';
import { errnoCode, ioError } from '../errors.js';
import type { GcStatus } from './gc-status.js';

/** What the sweep goes by: stamps older than `cutoff` are unused; at or after `markedSince`, marked by this run. */
export interface SweepLimits {
  cutoff: number;
  markedSince: number;
}

/**
 * Sweeps one prefix folder; the status counts what was removed, kept and pending. Returns how many entries
 * the folder held when listed (-1: it is gone), so the sweep can record the empty ones.
 */
export function sweepPrefix(chunksDir: string, prefix: number, limits: SweepLimits, status: GcStatus): number {
  const dir = join(chunksDir, prefixDirName(prefix));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return -1;
    throw ioError('list chunk directory', dir, err);
  }
  for (const name of names) sweepEntry(join(dir, name), name, limits, status);
  return names.length;
}

/**
 * One directory entry of the sweep. A chunk to delete is first renamed aside, then looked at again: a
 * writer that touched it before the rename left a fresh stamp (its touch is followed by a stat that sees
 * the file, so the touch landed before the rename), and the chunk goes back; a writer that comes after
 * the rename finds no file and writes the chunk anew. Either way no chunk a writer counts on is lost.
 */
function sweepEntry(path: string, name: string, { cutoff, markedSince }: SweepLimits, status: GcStatus): void {
  const kind = chunkFileKind(name);
  if (!kind) return;
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) return;
  if (kind === 'bad') {
    if (st.mtimeMs < cutoff) {
      unlinkOrThrow(path);
      status.removedBad++;
      status.removedBytes += st.size;
    } else {
      status.stillBad++;
    }
    return;
  }
  if (kind === 'tmp') {
    // A live writer's tmp file is younger than the cutoff; an older one is a crash leftover.
    if (st.mtimeMs < cutoff) {
      unlinkOrThrow(path);
      status.removedTmp++;
    }
    return;
  }
  const isParked = kind === 'parked';
  const chunkPath = isParked ? path.slice(0, -GC_PARKED_SUFFIX.length) : path;
  if (st.mtimeMs >= cutoff) {
    if (isParked) {
      // Left by a GC that died after a writer refreshed it: put it back unless a new copy exists.
      if (existsSync(chunkPath)) unlinkOrThrow(path);
      else renameSync(path, chunkPath);
    }
    countKept(status, st.size, st.mtimeMs >= markedSince);
    return;
  }
  const parked = isParked ? path : `${path}${GC_PARKED_SUFFIX}`;
  if (!isParked) {
    try {
      renameSync(path, parked);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw ioError('move aside chunk', path, err);
    }
  }
  const second = lstatSync(parked, { throwIfNoEntry: false });
  if (!second) return;
  if (second.mtimeMs >= cutoff) {
    if (existsSync(chunkPath)) unlinkOrThrow(parked);
    else renameSync(parked, chunkPath);
    status.keptOnSecondLook++;
    countKept(status, second.size, true);
    return;
  }
  unlinkOrThrow(parked);
  status.removedChunks++;
  status.removedBytes += second.size;
}

function countKept(status: GcStatus, size: number, inUse: boolean): void {
  if (inUse) {
    status.diskChunks++;
    status.diskBytes += size;
  } else {
    status.pendingChunks++;
    status.pendingBytes += size;
  }
}

export function unlinkOrThrow(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw ioError('delete', path, err);
  }
}
