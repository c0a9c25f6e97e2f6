import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import { CairnError, ioError, isCairnError } from '../errors.js';
import { writeAllSync } from '../fs/atomic-write.js';
import type { HeldDirectories } from '../fs/held-directories.js';
import { EventLoopTurns } from '../jobs/rate-meter.js';
import { ownedTmpName } from '../fs/owned-tmp.js';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const f64 = new Float64Array(1);
const bits = new BigInt64Array(f64.buffer);

/** The double next to `d` (up or down). */
function nextDouble(d: number, step: 1 | -1): number {
  f64[0] = d;
  bits[0]! += BigInt(step);
  return f64[0];
}

/** What libuv makes of a time in seconds: whole seconds, and nanoseconds truncated from the fraction. */
function asNanoseconds(seconds: number): bigint {
  const whole = Math.trunc(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.trunc((seconds - whole) * 1e9));
}

/**
 * A time for utimes, as close to `ns` as Node lets a file's time be set. Node takes a double of seconds, which
 * holds today's times only to 2^-22 s (238 ns); of the doubles around the time, the one libuv turns into the
 * nearest nanosecond is taken, so a restored time is off by at most 120 ns (it was up to 245 ns). Before 1970
 * a numeric string (Node reads a negative number as "now").
 */
export function nsToTime(ns: bigint): number | string {
  if (ns < 0n) {
    const abs = -ns;
    return `-${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
  }
  const near = Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
  let best = near;
  let bestError = -1n;
  for (const candidate of [near > 0 ? nextDouble(near, -1) : near, near, nextDouble(near, 1)]) {
    const diff = asNanoseconds(candidate) - ns;
    const error = diff < 0n ? -diff : diff;
    if (bestError < 0n || error < bestError) {
      best = candidate;
      bestError = error;
    }
  }
  return best;
}

/** What restoring one regular file needs, in a form that crosses to a worker thread. */
export interface FileRestoreJob {
  /** The job's number in its restore (workers report which ones they wrote). */
  id: number;
  /** The folder it goes into (HeldDirectories' number) and its name there. */
  dir: number;
  name: Uint8Array;
  /** The path in the archive, as shown (names.ts, displayName). */
  archivePath: string;
  size: number;
  payloadOffset: number;
  digest: Uint8Array;
  /** A `.damaged` copy (keepDamaged): its content is known not to match the digest, so it is not checked. */
  damagedCopy?: boolean;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
}

export type ExistingPolicy = 'keep' | 'overwrite';

/** A chunk of a file and every place in it the chunk goes (a disk image holds many of its chunks more than once). */
export interface PlacedChunk {
  data: Uint8Array;
  /** Offsets in the file. */
  at: readonly number[];
}

/**
 * What restoreFile writes, and how it is checked (FolderArchiveReader.restoreContent gives it): a file made of
 * whole chunks comes as each distinct chunk once with its places, every chunk checked as it is read, and the
 * digest made from theirs checked before anything is written; any other file comes slice by slice in order, and
 * its SHA-256 is checked against the file's.
 */
export type FileContent =
  | { chunkDigest: Uint8Array; chunks: Iterable<PlacedChunk> }
  | {
      chunkDigest?: undefined;
      slices: Iterable<Uint8Array>;
      /** Called when the content's SHA-256 is not the file's: throws the error of the damaged chunk, if one is. */
      blameChunks?: () => void;
    };

/** The content as writes: slices one after another; a placed chunk to each of its places. */
function* writesOf(content: FileContent): Generator<{ data: Uint8Array; at: number }> {
  if (content.chunkDigest) {
    for (const chunk of content.chunks) for (const at of chunk.at) yield { data: chunk.data, at };
    return;
  }
  let at = 0;
  for (const data of content.slices) {
    yield { data, at };
    at += data.length;
  }
}

/**
 * Writes one restored file into its held folder: to a tmp sibling (O_EXCL, never following a symlink, named
 * after this process so a later run can remove it if this one is killed), checking it against the snapshot's
 * digest, then mode, times and (as root) owner, and a rename into place. Returns false when an existing file
 * was kept. `content` yields the file's bytes and says how they are checked (FileContent).
 * `shouldStop` is asked after every slice (a worker's shared cancel flag): a cancel stops inside a large file.
 */
export function restoreFile(
  job: FileRestoreJob,
  dirs: HeldDirectories,
  content: FileContent,
  existing: ExistingPolicy,
  onBytes: (n: number) => void,
  shouldStop?: () => boolean,
): boolean {
  const steps = writeRestoredFile(job, dirs, content, existing, onBytes);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (shouldStop?.()) steps.throw(cancelled());
  }
}

/**
 * restoreFile for the job's own thread: it lets the event loop in every 50 ms, so progress goes out and a
 * cancel arrives while a large file is written, and stops within one slice of it.
 */
export async function restoreFileYielding(
  job: FileRestoreJob,
  dirs: HeldDirectories,
  content: FileContent,
  existing: ExistingPolicy,
  onBytes: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const steps = writeRestoredFile(job, dirs, content, existing, onBytes);
  const turns = new EventLoopTurns();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await turns.due();
    if (signal?.aborted) steps.throw(cancelled());
  }
}

function cancelled(): CairnError {
  return new CairnError('CANCELLED', 'restore cancelled');
}

/** The steps of restoreFile: it pauses after each slice written, and a cancel thrown in there removes the tmp file. */
function* writeRestoredFile(
  job: FileRestoreJob,
  dirs: HeldDirectories,
  content: FileContent,
  existing: ExistingPolicy,
  onBytes: (n: number) => void,
): Generator<void, boolean> {
  const { chunkDigest } = content;
  const [tmp, path] = dirs.pathsIn([job.dir, ownedTmpName()], [job.dir, job.name]);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory())
    throw new CairnError('ALREADY_EXISTS', `cannot restore ${job.archivePath}: a folder is in the way`);
  if (st && existing === 'keep') return false;
  if (chunkDigest && !job.damagedCopy && !Buffer.from(chunkDigest).equals(job.digest)) {
    throw new CairnError('CORRUPT', `${job.archivePath}: its chunks do not match the snapshot's checksum`);
  }
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    // Only slices are hashed, and they come in order.
    const hash = chunkDigest || job.damagedCopy ? undefined : createHash('sha256');
    for (const { data, at } of writesOf(content)) {
      writeAllSync(fd, data, at);
      hash?.update(data);
      onBytes(data.length);
      yield;
    }
    if (hash && !hash.digest().equals(job.digest)) {
      if (!content.chunkDigest) content.blameChunks?.();
      throw new CairnError('CORRUPT', `${job.archivePath}: restored content does not match the snapshot's checksum`);
    }
    // Owner first: on Linux a chown clears the setuid and setgid bits, even for root.
    if (isRoot) fchownSync(fd, job.uid, job.gid);
    fchmodSync(fd, job.mode);
    futimesSync(fd, nsToTime(job.mtimeNs), nsToTime(job.mtimeNs));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    return true;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw isCairnError(err) ? err : ioError('restore', job.archivePath, err);
  }
}
