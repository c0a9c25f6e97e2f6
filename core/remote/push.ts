import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { formatBackupTime, groupPath, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { MANIFEST_NAME, type Manifest } from '../backup/manifest.js';
import { checkBlob } from '../blob/data-blob.js';
import { CONFIG_FILE } from '../datastore/datastore-config.js';
import { OWNER_FILE, type Datastore } from '../datastore/datastore.js';
import { CairnError, ioError } from '../errors.js';
import { MAX_JSON_FILE_BYTES, readRegularFile } from '../fs/regular-file.js';
import { openIndex } from '../index/index-reader.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, type RateSample } from '../jobs/rate-meter.js';
import { withLockAsync } from '../locks/with-lock.js';
import type { Logger } from '../log.js';
import { BandwidthLimit } from './bandwidth.js';
import type { Bucket } from './bucket.js';
import {
  chunkKey,
  GC_GENERATION_KEY,
  GC_LOCK_KEY,
  GC_LOCK_STALE_MS,
  groupFileKey,
  SESSIONS_PREFIX,
  snapshotPrefix,
  STORE_CONFIG_KEY,
} from './bucket-layout.js';
import { listRemoteChunks, listRemoteSnapshots, type RemoteSnapshot } from './remote-snapshots.js';
import { assertMatchesManifest } from './manifest-check.js';
import { TransferPool } from './transfer-pool.js';

/** Indexes and blobs are read whole; no Cairn or PBS index of a sane archive comes near this. */
const MAX_SNAPSHOT_FILE = 1024 * 1024 * 1024;
/** A session object is written again this often while a push runs, so a remote GC sees it is alive. */
const SESSION_REFRESH_MS = 60_000;
/** How long a push waits for a remote GC's sweep (a few seconds, normally) before it gives up. */
const GC_WAIT_MS = 120_000;

export interface PushOptions {
  /** Uploads at once (default 8). */
  parallel?: number;
  /** Upload bytes per second, all transfers together; unlimited by default. */
  bandwidth?: number;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: PushProgress) => void;
  progressIntervalMs?: number;
  /**
   * Snapshots (paths) the user named one by one: sent even when older than the newest of their group on the
   * remote. Every other older one is left out, as PBS's sync does: the remote's retention may have removed it.
   */
  named?: ReadonlySet<string>;
}

export interface PushProgress extends RateSample {
  phase: 'listing' | 'uploading';
  snapshotsTotal: number;
  snapshotsDone: number;
  /** Bytes to upload (chunks the remote lacks, then each snapshot's files), and uploaded so far. */
  bytesTotal: number;
  bytesDone: number;
  chunksToUpload: number;
  chunksUploaded: number;
  currentSnapshot: string;
}

export interface PushResult extends PushProgress {
  /** Snapshots sent now, and those the remote had already. */
  pushed: string[];
  present: string[];
  /** Left out: older than the newest of their group on the remote, and not named (PushOptions.named). */
  olderSkipped: string[];
  /** Chunks the listing did not show but the service had (a conditional PUT answered 412). */
  chunksFoundPresent: number;
  requests: number;
}

/** One snapshot's share of the push: the chunks it needs that the remote lacks, and its files. */
interface SnapshotPlan {
  ref: SnapshotRef;
  path: string;
  manifest: Manifest;
  chunks: { hex: string; bytes: number }[];
  fileBytes: number;
  /** The remote GC's generation when the chunks this plan takes as present were listed (remote-gc.ts). */
  generation: string;
}

/**
 * Sends snapshots the remote lacks (docs/REMOTES.md): the chunks it lacks first (found with one listing, not a
 * request per chunk; each uploaded with If-None-Match: * and Content-MD5), then the snapshot's indexes and blobs,
 * its manifest last, so a snapshot on the remote is complete or absent. Snapshot by snapshot, so an interrupted
 * push keeps what it finished, and a rerun sends no chunk twice (they are listed). Each local snapshot is held
 * against prune and forget while it is sent; a session object tells a remote GC that a push is running.
 */
export async function pushSnapshots(
  store: Datastore,
  bucket: Bucket,
  refs: readonly SnapshotRef[],
  options: PushOptions = {},
): Promise<PushResult> {
  return new PushJob(store, bucket, refs, options).run();
}

class PushJob {
  private readonly progress: PushProgress;
  private readonly meter = new RateMeter(0);
  private readonly report: ReturnType<typeof throttle<PushProgress>>;
  private readonly limit: BandwidthLimit | undefined;
  private readonly session = `${SESSIONS_PREFIX}${randomUUID()}.json`;
  private readonly pushed: string[] = [];
  private readonly present: string[] = [];
  private readonly olderSkipped: string[] = [];
  private chunksFoundPresent = 0;

  constructor(
    private readonly store: Datastore,
    private readonly bucket: Bucket,
    private readonly refs: readonly SnapshotRef[],
    private readonly options: PushOptions,
  ) {
    this.progress = {
      phase: 'listing',
      snapshotsTotal: refs.length,
      snapshotsDone: 0,
      bytesTotal: 0,
      bytesDone: 0,
      chunksToUpload: 0,
      chunksUploaded: 0,
      currentSnapshot: '',
      rate: 0,
      elapsedMs: 0,
    };
    this.report = throttle((p: PushProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 200);
    this.limit = options.bandwidth ? new BandwidthLimit(options.bandwidth) : undefined;
  }

  async run(): Promise<PushResult> {
    const { signal } = this.options;
    this.report.flush(this.progress);
    const todo = this.choose(await listRemoteSnapshots(this.bucket, signal));
    if (todo.length > 0) await this.withSession(() => this.pushAll(todo));
    this.progress.currentSnapshot = '';
    this.report.flush(this.sample());
    return {
      ...this.progress,
      pushed: this.pushed,
      present: this.present,
      olderSkipped: this.olderSkipped,
      chunksFoundPresent: this.chunksFoundPresent,
      requests: this.bucket.requests,
    };
  }

  /**
   * What to send: not what the remote has, and not what is older than the newest of its group there (unless
   * named). A snapshot the remote's prune removed is so never sent again, where a re-send racing that prune
   * could leave a manifest whose indexes the prune was deleting.
   */
  private choose(remoteSnapshots: RemoteSnapshot[]): SnapshotRef[] {
    const finished = remoteSnapshots.filter((s) => s.finished);
    const remote = new Set(finished.map((s) => s.path));
    const newest = new Map<string, number>();
    for (const s of finished) newest.set(groupPath(s), Math.max(s.time, newest.get(groupPath(s)) ?? -Infinity));
    return this.refs.filter((ref) => {
      const path = snapshotPath(ref);
      if (remote.has(path)) this.present.push(path);
      else if (ref.time < (newest.get(groupPath(ref)) ?? -Infinity) && !this.options.named?.has(path))
        this.olderSkipped.push(path);
      else return true;
      return false;
    });
  }

  private async pushAll(todo: SnapshotRef[]): Promise<void> {
    const { signal } = this.options;
    await this.putIfAbsent(STORE_CONFIG_KEY, this.readLocal(join(this.store.root, CONFIG_FILE), MAX_JSON_FILE_BYTES));
    await this.waitForGcSweep();
    const generation = await this.readGeneration();
    const remoteChunks = await listRemoteChunks(this.bucket, signal);
    const plans = todo.map((ref) => this.plan(ref, remoteChunks, generation));
    this.progress.phase = 'uploading';
    this.progress.snapshotsDone = this.present.length + this.olderSkipped.length;
    this.progress.bytesTotal = plans.reduce((n, p) => n + p.fileBytes + p.chunks.reduce((m, c) => m + c.bytes, 0), 0);
    this.progress.chunksToUpload = plans.reduce((n, p) => n + p.chunks.length, 0);
    this.meter.setTotal(this.progress.bytesTotal);
    for (const plan of plans) {
      throwIfCancelled(signal, 'push');
      const lock = this.store.lockSnapshotShared(plan.ref, `push of ${plan.path} to ${this.bucket.name}`);
      await withLockAsync(lock, () => this.pushSnapshot(plan));
    }
  }

  /** What a snapshot needs sent; a chunk needed by two snapshots of this push is sent with the first. */
  private plan(ref: SnapshotRef, remoteChunks: Set<string>, generation: string): SnapshotPlan {
    const manifest = this.store.readManifest(ref);
    const dir = this.store.snapshotDir(ref);
    const chunks: SnapshotPlan['chunks'] = [];
    let fileBytes = 0;
    for (const file of manifest.files) {
      fileBytes += statSync(join(dir, file.filename)).size;
      if (file.filename.endsWith('.blob')) continue;
      const index = openIndex(join(dir, file.filename));
      for (let i = 0; i < index.chunkCount; i++) {
        const hex = index.digest(i).toString('hex');
        if (remoteChunks.has(hex)) continue;
        remoteChunks.add(hex);
        chunks.push({ hex, bytes: this.chunkFileSize(hex) });
      }
    }
    return { ref, path: snapshotPath(ref), manifest, chunks, fileBytes, generation };
  }

  private chunkFileSize(hex: string): number {
    const path = this.store.chunks.chunkPath(hex);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st)
      throw new CairnError(
        'NOT_FOUND',
        `chunk ${hex} is missing from the local store: run cairn verify, then push again`,
      );
    return st.size;
  }

  private async pushSnapshot(plan: SnapshotPlan): Promise<void> {
    this.progress.currentSnapshot = plan.path;
    const pool = new TransferPool(this.options.parallel ?? 8);
    for (const chunk of plan.chunks) {
      throwIfCancelled(this.options.signal, 'push');
      await pool.add(() => this.uploadChunk(chunk.hex));
    }
    await pool.drain();
    await this.recheckAfterGc(plan);
    await this.uploadFiles(plan);
    await this.confirmChunksAfterManifest(plan);
    this.pushed.push(plan.path);
    this.progress.snapshotsDone++;
    this.report.push(this.sample());
  }

  /**
   * Our session is written before we look for a GC's lock, and a GC takes its lock before it looks for sessions:
   * one of the two always sees the other. A GC that is sweeping is waited for; a stale lock (a GC that died) not.
   */
  private async waitForGcSweep(): Promise<void> {
    const end = Date.now() + GC_WAIT_MS;
    for (;;) {
      const lock = await this.bucket.head(GC_LOCK_KEY, this.options.signal);
      if (!lock) return;
      const now = await this.bucket.serverTime(this.options.signal);
      if (lock.lastModified < now - GC_LOCK_STALE_MS) return;
      if (Date.now() > end)
        throw new CairnError(
          'LOCKED',
          `a GC of the remote ${this.bucket.name} has been sweeping for minutes; push again later`,
        );
      await new Promise((r) => setTimeout(r, 2000));
      throwIfCancelled(this.options.signal, 'push');
    }
  }

  private async readGeneration(): Promise<string> {
    return (await this.bucket.get(GC_GENERATION_KEY, this.options.signal))?.toString('utf8') ?? '';
  }

  /**
   * If a remote GC swept since this snapshot's chunks were listed (this push was asleep longer than its session
   * lasts), the chunks it took as present may be gone: wait for a sweep still going on, list again and send what
   * this snapshot now lacks. Each snapshot of the push checks against the generation its own plan was made at.
   */
  private async recheckAfterGc(plan: SnapshotPlan): Promise<void> {
    await this.waitForGcSweep();
    const now = await this.readGeneration();
    if (now === plan.generation) return;
    this.options.log?.warn(`a GC of ${this.bucket.name} ran during the push: checking ${plan.path}'s chunks again`);
    const present = await listRemoteChunks(this.bucket, this.options.signal);
    const again = this.plan(plan.ref, present, now).chunks;
    const pool = new TransferPool(this.options.parallel ?? 8);
    for (const chunk of again) await pool.add(() => this.uploadChunk(chunk.hex));
    await pool.drain();
    plan.generation = now;
  }

  /**
   * A GC that began its sweep after the check before the manifest (this push asleep meanwhile) marked the
   * snapshot without the indexes sent since: checked once more with the manifest there, and mended. A GC that
   * starts after this sees the manifest. If the check cannot be made, the manifest is taken back, so the next
   * push sends the snapshot again rather than the remote holding it with chunks missing.
   */
  private async confirmChunksAfterManifest(plan: SnapshotPlan): Promise<void> {
    try {
      await this.recheckAfterGc(plan);
    } catch (err) {
      const prefix = snapshotPrefix(plan.ref, formatBackupTime(plan.ref.time));
      await this.bucket.deleteMany([`${prefix}${MANIFEST_NAME}`]).catch(() => undefined);
      throw err;
    }
  }

  /** The chunk as it is on disk, checked first (a damaged chunk must not spread to the off-site copy). */
  private async uploadChunk(hex: string): Promise<void> {
    const raw = this.store.chunks.readRaw(hex);
    checkBlob(raw, `local chunk ${hex}`);
    await this.limit?.take(raw.length, this.options.signal);
    const outcome = await this.bucket.put(chunkKey(hex), raw, { ifAbsent: true, signal: this.options.signal });
    if (outcome === 'exists') this.chunksFoundPresent++;
    this.progress.chunksUploaded++;
    this.advance(raw.length);
  }

  /** Indexes and blobs, each checked against the manifest; the group's owner; the manifest last. */
  private async uploadFiles(plan: SnapshotPlan): Promise<void> {
    const dir = this.store.snapshotDir(plan.ref);
    const prefix = snapshotPrefix(plan.ref, formatBackupTime(plan.ref.time));
    for (const file of plan.manifest.files) {
      const raw = this.readLocal(join(dir, file.filename), MAX_SNAPSHOT_FILE);
      assertMatchesManifest(raw, file, join(dir, file.filename));
      await this.limit?.take(raw.length, this.options.signal);
      await this.bucket.put(`${prefix}${file.filename}`, raw, { signal: this.options.signal });
      this.advance(raw.length);
    }
    const owner = this.readLocal(join(this.store.groupDir(plan.ref), OWNER_FILE), 4096);
    await this.putIfAbsent(groupFileKey(plan.ref.type, plan.ref.id, OWNER_FILE), owner);
    const manifest = this.readLocal(join(dir, MANIFEST_NAME), MAX_JSON_FILE_BYTES);
    await this.putIfAbsent(`${prefix}${MANIFEST_NAME}`, manifest);
    await this.confirmComplete(plan, prefix);
  }

  /**
   * Every file is still there after the manifest: a forget of this snapshot on another machine (manifest first,
   * then the rest) may have deleted what was just sent. Then the manifest goes too, so the snapshot is absent
   * rather than incomplete (a remote GC stops at a manifest whose index is gone), and the push says so.
   */
  private async confirmComplete(plan: SnapshotPlan, prefix: string): Promise<void> {
    const { signal } = this.options;
    const there = new Set<string>();
    for await (const page of this.bucket.list(prefix, signal)) for (const o of page) there.add(o.key);
    const missing = plan.manifest.files.find((f) => !there.has(`${prefix}${f.filename}`));
    if (!missing) return;
    await this.bucket.deleteMany([`${prefix}${MANIFEST_NAME}`], signal);
    throw new CairnError(
      'IO',
      `remote ${this.bucket.name}: ${prefix}${missing.filename} vanished while ${plan.path} was sent (removed by a ` +
        `prune or forget elsewhere?); its manifest was taken back, so the remote does not hold it half`,
    );
  }

  private async putIfAbsent(rel: string, body: Buffer): Promise<void> {
    await this.bucket.put(rel, body, { ifAbsent: true, signal: this.options.signal });
  }

  private readLocal(path: string, max: number): Buffer {
    try {
      return readRegularFile(path, max);
    } catch (err) {
      throw err instanceof CairnError ? err : ioError('read', path, err);
    }
  }

  private advance(bytes: number): void {
    this.progress.bytesDone += bytes;
    this.report.push(this.sample());
  }

  private sample(): PushProgress {
    return Object.assign(this.progress, this.meter.sample(this.progress.bytesDone));
  }

  /** A session object while chunks are sent (docs/REMOTES.md), refreshed, and removed at the end. */
  private async withSession(run: () => Promise<void>): Promise<void> {
    const body = () => Buffer.from(JSON.stringify({ host: hostname(), pid: process.pid, at: Date.now() }));
    await this.bucket.put(this.session, body(), { signal: this.options.signal });
    const timer = setInterval(() => {
      this.bucket.put(this.session, body()).catch((err: unknown) => this.options.log?.warn(String(err)));
    }, SESSION_REFRESH_MS);
    try {
      await run();
    } finally {
      clearInterval(timer);
      await this.bucket.deleteMany([this.session]).catch((err: unknown) => {
        this.options.log?.warn(`could not remove the push session ${this.session}: ${(err as Error).message}`);
      });
    }
  }
}
