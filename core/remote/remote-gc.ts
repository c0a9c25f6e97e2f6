import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { formatBackupTime } from '../backup/backup-names.js';
import { decodeManifest, MANIFEST_NAME } from '../backup/manifest.js';
import { DYNAMIC_INDEX_MAGIC, FIXED_INDEX_MAGIC } from '../blob/magic.js';
import { CairnError } from '../errors.js';
import { INDEX_HEADER_SIZE } from '../index/index-format.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import type { Logger } from '../log.js';
import type { Bucket, ListedObject } from './bucket.js';
import {
  chunkOfKey,
  CHUNKS_PREFIX,
  GC_GENERATION_KEY,
  GC_LOCK_KEY,
  GC_LOCK_STALE_MS,
  SESSIONS_PREFIX,
  snapshotPrefix,
} from './bucket-layout.js';
import { assertMatchesManifest } from './manifest-check.js';
import { listRemoteSnapshots, type RemoteSnapshot } from './remote-snapshots.js';

/** A push refreshes its session every minute; one untouched this long (server time) belongs to a push that died. */
export const SESSION_STALE_MS = 10 * 60_000;
/** Chunks younger than this (server time) are never candidates: a push may have just sent them. */
export const GC_MIN_AGE_MS = 5 * 60_000;

export interface RemoteGcResult {
  /** 'backed-off': a push was running when the sweep would start; nothing was deleted. */
  outcome: 'swept' | 'backed-off';
  snapshots: number;
  chunksTotal: number;
  chunksReferenced: number;
  chunksRemoved: number;
  bytesRemoved: number;
  /** Unreferenced, but too young to remove yet. */
  chunksTooYoung: number;
  livePushes: number;
  requests: number;
}

/**
 * Remote GC (docs/REMOTES.md, "Remote GC"), safe while other machines push into the same prefix. Mark without
 * any lock: T0 from the server's clock, every snapshot's indexes, every chunk; candidates are chunks no index
 * names that are older than T0 − GC_MIN_AGE_MS (tests pass `minAgeMs`). Sweep under `.cairn/locks/gc` (a
 * conditional create, GcLock): with a push session alive it backs off; otherwise it marks again the snapshots
 * that appeared or were unfinished, writes a new generation, deletes the rest in batches (stopping if it lost
 * its lock) and writes a new generation again, which a push that slept through all this reads around its manifest.
 */
export async function collectRemoteGarbage(
  bucket: Bucket,
  options: {
    signal?: AbortSignal;
    log?: Logger;
    minAgeMs?: number;
    /** Tests: runs between the first mark and the lock (another machine's push going on meanwhile). */
    beforeSweep?: () => Promise<void>;
  } = {},
): Promise<RemoteGcResult> {
  const { signal } = options;
  const minAge = options.minAgeMs ?? GC_MIN_AGE_MS;
  const t0 = await bucket.serverTime(signal);
  const referenced = new Set<string>();
  const marked = new Map<string, boolean>();
  await markSnapshots(bucket, referenced, marked, signal);
  const chunks = await listChunks(bucket, signal);
  await options.beforeSweep?.();
  // T0 comes from a HEAD's Last-Modified, in whole seconds, and a listing may give milliseconds (Ceph does):
  // compared by the second, an object of the same second as T0 − minAge counts as old enough.
  const young = (o: ListedObject) => Math.floor(o.lastModified / 1000) * 1000 > t0 - minAge;
  const base = {
    snapshots: marked.size,
    chunksTotal: chunks.size,
    chunksRemoved: 0,
    bytesRemoved: 0,
    chunksTooYoung: [...chunks.values()].filter((o) => young(o) && !referenced.has(chunkOfKey(o.key)!)).length,
  };
  return withGcLock(bucket, signal, async (lock) => {
    const live = await liveSessions(bucket, signal);
    if (live > 0) {
      options.log?.warn(`${live} push${live === 1 ? ' is' : 'es are'} running on ${bucket.name}: GC backs off`);
      return {
        ...base,
        outcome: 'backed-off',
        chunksReferenced: referenced.size,
        livePushes: live,
        requests: bucket.requests,
      };
    }
    // Snapshots that appeared or grew since the first mark: new ones, and unfinished ones marked then by what
    // they had (a push going on), which may have more indexes now, or their manifest.
    await markSnapshots(bucket, referenced, marked, signal);
    const doomed = [...chunks.values()].filter((o) => !young(o) && !referenced.has(chunkOfKey(o.key)!));
    // A new generation before the first delete and after the last: a push that reads it at any moment of the
    // sweep, or after it, sees that chunks it took as present may be gone.
    if (doomed.length > 0) await bucket.put(GC_GENERATION_KEY, Buffer.from(randomUUID()), { signal });
    await deleteInBatches(bucket, doomed, lock, signal);
    await bucket.put(GC_GENERATION_KEY, Buffer.from(randomUUID()), { signal });
    return {
      ...base,
      outcome: 'swept',
      snapshots: marked.size,
      chunksReferenced: referenced.size,
      chunksRemoved: doomed.length,
      bytesRemoved: doomed.reduce((n, o) => n + o.size, 0),
      livePushes: 0,
      requests: bucket.requests,
    };
  });
}

/**
 * Adds the chunks of every snapshot, finished or not (an unfinished one may be a push in flight), to
 * `referenced`; `marked` says which were marked before and whether finished then. A finished snapshot is marked
 * once; an unfinished one every time, since its push may have sent more indexes, or its manifest, since.
 */
async function markSnapshots(
  bucket: Bucket,
  referenced: Set<string>,
  marked: Map<string, boolean>,
  signal?: AbortSignal,
) {
  for (const snap of await listRemoteSnapshots(bucket, signal)) {
    if (marked.get(snap.path) === true) continue;
    throwIfCancelled(signal, 'remote GC');
    for (const digest of await snapshotDigests(bucket, snap, signal)) referenced.add(digest);
    marked.set(snap.path, snap.finished);
  }
}

/** The digests a snapshot's indexes name: those its manifest lists, else (unfinished) every index present. */
async function snapshotDigests(bucket: Bucket, snap: RemoteSnapshot, signal?: AbortSignal): Promise<string[]> {
  const prefix = snapshotPrefix(snap, formatBackupTime(snap.time));
  const manifestRaw = snap.finished ? await bucket.get(`${prefix}${MANIFEST_NAME}`, signal) : undefined;
  const manifest = manifestRaw && decodeManifest(manifestRaw, `${bucket.name}:${prefix}${MANIFEST_NAME}`);
  const names = manifest ? manifest.files.map((f) => f.filename) : snap.files.map((f) => f.name);
  const out: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.didx') || n.endsWith('.fidx'))) {
    const raw = await bucket.get(`${prefix}${name}`, signal);
    if (!raw) {
      // Gone with its manifest: a forget elsewhere is removing the snapshot (manifest first), nothing damaged.
      if (manifest && (await bucket.head(`${prefix}${MANIFEST_NAME}`, signal)))
        throw new CairnError(
          'CORRUPT',
          `remote ${bucket.name}: ${prefix}${name} is missing; GC stops before deleting anything`,
        );
      continue;
    }
    const file = manifest?.files.find((f) => f.filename === name);
    if (file) assertMatchesManifest(raw, file, `remote ${bucket.name}: ${prefix}${name}`);
    out.push(...indexDigests(raw, `${prefix}${name}`));
  }
  return out;
}

/** The digests in an index file's bytes (spec 3): 40-byte entries in a .didx, 32-byte ones in a .fidx. */
export function indexDigests(raw: Buffer, what: string): string[] {
  const dynamic = raw.subarray(0, 8).equals(DYNAMIC_INDEX_MAGIC);
  if (!dynamic && !raw.subarray(0, 8).equals(FIXED_INDEX_MAGIC))
    throw new CairnError('CORRUPT', `${what} is not an index file; GC stops before deleting anything`);
  const size = dynamic ? 40 : 32;
  const skip = dynamic ? 8 : 0;
  const out: string[] = [];
  for (let at = INDEX_HEADER_SIZE; at + size <= raw.length; at += size)
    out.push(raw.subarray(at + skip, at + skip + 32).toString('hex'));
  return out;
}

async function listChunks(bucket: Bucket, signal?: AbortSignal): Promise<Map<string, ListedObject>> {
  const out = new Map<string, ListedObject>();
  for await (const page of bucket.list(CHUNKS_PREFIX, signal))
    for (const object of page) if (chunkOfKey(object.key)) out.set(object.key, object);
  return out;
}

async function liveSessions(bucket: Bucket, signal?: AbortSignal): Promise<number> {
  const now = await bucket.serverTime(signal);
  let live = 0;
  for await (const page of bucket.list(SESSIONS_PREFIX, signal))
    live += page.filter((o) => o.lastModified > now - SESSION_STALE_MS).length;
  return live;
}

async function deleteInBatches(
  bucket: Bucket,
  doomed: ListedObject[],
  lock: GcLock,
  signal?: AbortSignal,
): Promise<void> {
  for (let i = 0; i < doomed.length; i += 1000) {
    throwIfCancelled(signal, 'remote GC');
    await lock.refresh(signal); // the lock stays fresh through a long sweep, and is still this GC's
    await bucket.deleteMany(
      doomed.slice(i, i + 1000).map((o) => o.key),
      signal,
    );
  }
}

/**
 * The GC lock as this GC holds it: a token of its own in the body, so that it never refreshes or removes a lock
 * another GC took over, and the server's time of its last refresh, so that a GC that was suspended (a laptop
 * asleep) longer than a lock lives stops instead of deleting by a mark that pushes since could not see.
 */
class GcLock {
  private readonly token = randomUUID();
  private refreshedAt = 0;

  constructor(private readonly bucket: Bucket) {}

  private body(): Buffer {
    return Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, at: Date.now(), token: this.token }));
  }

  /** Takes the lock if nobody holds it (a conditional create); false when it is there. */
  async create(signal?: AbortSignal): Promise<boolean> {
    const outcome = await this.bucket.put(GC_LOCK_KEY, this.body(), { ifAbsent: true, exclusive: true, signal });
    // 'exists' may be our own create, retried after its answer was lost: the token tells.
    const taken = outcome === 'created' || (await this.ours(signal));
    if (taken) this.refreshedAt = await this.bucket.serverTime(signal);
    return taken;
  }

  private async ours(signal?: AbortSignal): Promise<boolean> {
    const raw = await this.bucket.get(GC_LOCK_KEY, signal);
    return raw !== undefined && raw.includes(this.token);
  }

  /** Before each batch of deletes: still ours, and not stale (this GC did not sleep through its lock's life). */
  async refresh(signal?: AbortSignal): Promise<void> {
    const now = await this.bucket.serverTime(signal);
    if (now - this.refreshedAt > GC_LOCK_STALE_MS / 2 || !(await this.ours(signal)))
      throw new CairnError(
        'LOCKED',
        `remote ${this.bucket.name}: this GC lost its lock (${GC_LOCK_KEY}) while it swept (it was suspended, or ` +
          `another GC took the lock over); it stopped before deleting more. Run the GC again.`,
      );
    await this.bucket.put(GC_LOCK_KEY, this.body(), { signal });
    this.refreshedAt = now;
  }

  /** Removes the lock if it is still this GC's. */
  async release(): Promise<void> {
    if (await this.ours().catch(() => false)) await this.bucket.deleteMany([GC_LOCK_KEY]).catch(() => undefined);
  }
}

/** Runs `sweep` holding the GC lock; a stale lock (a GC that died) is taken over, a live one is LOCKED. */
async function withGcLock<T>(
  bucket: Bucket,
  signal: AbortSignal | undefined,
  sweep: (lock: GcLock) => Promise<T>,
): Promise<T> {
  const lock = new GcLock(bucket);
  if (!(await lock.create(signal))) {
    const held = await bucket.head(GC_LOCK_KEY, signal);
    const now = await bucket.serverTime(signal);
    if (held && held.lastModified > now - GC_LOCK_STALE_MS)
      throw new CairnError(
        'LOCKED',
        `a GC of the remote ${bucket.name} is running (its lock is ${GC_LOCK_KEY}); try later`,
      );
    await bucket.deleteMany([GC_LOCK_KEY], signal);
    if (!(await lock.create(signal)))
      throw new CairnError('LOCKED', `another GC of the remote ${bucket.name} took over its stale lock just now`);
  }
  try {
    return await sweep(lock);
  } finally {
    await lock.release();
  }
}
