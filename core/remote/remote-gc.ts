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
 * names that are older than T0 − GC_MIN_AGE_MS (tests pass `minAgeMs`). Sweep under `.cairn/locks/gc` (a conditional create): with a
 * push session alive it backs off; otherwise it marks again what snapshots appeared meanwhile, deletes the rest
 * in batches, and writes a new generation, which a push that slept through all this reads before its manifest.
 */
export async function collectRemoteGarbage(
  bucket: Bucket,
  options: { signal?: AbortSignal; log?: Logger; minAgeMs?: number } = {},
): Promise<RemoteGcResult> {
  const { signal } = options;
  const minAge = options.minAgeMs ?? GC_MIN_AGE_MS;
  const t0 = await bucket.serverTime(signal);
  const referenced = new Set<string>();
  const marked = new Set<string>();
  await markSnapshots(bucket, referenced, marked, signal);
  const chunks = await listChunks(bucket, signal);
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
  return withGcLock(bucket, signal, async () => {
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
    await markSnapshots(bucket, referenced, marked, signal); // snapshots finished since the first mark
    const doomed = [...chunks.values()].filter((o) => !young(o) && !referenced.has(chunkOfKey(o.key)!));
    await deleteInBatches(bucket, doomed, signal);
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

/** Adds the chunks of every snapshot not marked yet, finished or not (an unfinished one may be a push in flight). */
async function markSnapshots(bucket: Bucket, referenced: Set<string>, marked: Set<string>, signal?: AbortSignal) {
  for (const snap of await listRemoteSnapshots(bucket, signal)) {
    if (marked.has(snap.path)) continue;
    throwIfCancelled(signal, 'remote GC');
    for (const digest of await snapshotDigests(bucket, snap, signal)) referenced.add(digest);
    marked.add(snap.path);
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
      if (manifest)
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

async function deleteInBatches(bucket: Bucket, doomed: ListedObject[], signal?: AbortSignal): Promise<void> {
  for (let i = 0; i < doomed.length; i += 1000) {
    throwIfCancelled(signal, 'remote GC');
    await bucket.put(GC_LOCK_KEY, lockBody(), { signal }); // refreshed: the lock stays fresh through a long sweep
    await bucket.deleteMany(
      doomed.slice(i, i + 1000).map((o) => o.key),
      signal,
    );
  }
}

function lockBody(): Buffer {
  return Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, at: Date.now() }));
}

/** Runs `sweep` holding the GC lock; a stale lock (a GC that died) is taken over, a live one is LOCKED. */
async function withGcLock<T>(bucket: Bucket, signal: AbortSignal | undefined, sweep: () => Promise<T>): Promise<T> {
  if ((await bucket.put(GC_LOCK_KEY, lockBody(), { ifAbsent: true, signal })) === 'exists') {
    const lock = await bucket.head(GC_LOCK_KEY, signal);
    const now = await bucket.serverTime(signal);
    if (lock && lock.lastModified > now - GC_LOCK_STALE_MS)
      throw new CairnError(
        'LOCKED',
        `a GC of the remote ${bucket.name} is running (its lock is ${GC_LOCK_KEY}); try later`,
      );
    await bucket.deleteMany([GC_LOCK_KEY], signal);
    if ((await bucket.put(GC_LOCK_KEY, lockBody(), { ifAbsent: true, signal })) === 'exists')
      throw new CairnError('LOCKED', `another GC of the remote ${bucket.name} took over its stale lock just now`);
  }
  try {
    return await sweep();
  } finally {
    await bucket.deleteMany([GC_LOCK_KEY]).catch(() => undefined);
  }
}
