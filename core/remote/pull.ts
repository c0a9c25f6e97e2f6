import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBackupTime, groupPath, snapshotPath, type BackupGroupRef } from '../backup/backup-names.js';
import { decodeManifest, MANIFEST_NAME, type Manifest } from '../backup/manifest.js';
import { checkBlob, decodeBlob, isEncryptedKind } from '../blob/data-blob.js';
import type { BackupSession } from '../datastore/backup-session.js';
import { OWNER_FILE, type Datastore } from '../datastore/datastore.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { openIndex } from '../index/index-reader.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, type RateSample } from '../jobs/rate-meter.js';
import type { Logger } from '../log.js';
import type { Bucket } from './bucket.js';
import { chunkKey, groupFileKey, snapshotPrefix } from './bucket-layout.js';
import { assertMatchesManifest } from './manifest-check.js';
import type { RemoteSnapshot } from './remote-snapshots.js';
import { TransferPool } from './transfer-pool.js';

export interface PullOptions {
  parallel?: number;
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: PullProgress) => void;
  progressIntervalMs?: number;
}

export interface PullProgress extends RateSample {
  /** Listing: each snapshot's manifest and indexes are fetched and checked, and what the store lacks is counted. */
  phase: 'listing' | 'downloading';
  snapshotsTotal: number;
  snapshotsDone: number;
  /** Chunks the store lacks (known once listed), and those fetched so far. */
  chunksToFetch: number;
  chunksFetched: number;
  /** Bytes downloaded (chunks and files). */
  bytesDone: number;
  /** The data in the chunks the store lacks (their decoded lengths), and what has arrived: rate and ETA are of these. */
  dataTotal: number;
  dataDone: number;
  currentSnapshot: string;
}

export interface PullResult extends PullProgress {
  pulled: string[];
  /** Finished locally already: left as they are. */
  present: string[];
  requests: number;
}

/** A snapshot's manifest and files, fetched and checked against it. */
interface SnapshotMetadata {
  rawManifest: Buffer;
  manifest: Manifest;
  files: Map<string, Buffer>;
}

/** Metadata fetched while listing is kept for the pull up to this much; beyond it, it is fetched again then. */
const METADATA_BUDGET = 64 * 1024 * 1024;

/**
 * Brings remote snapshots into a local store (the new laptop: everything from the bucket). First each snapshot's
 * manifest and indexes are fetched and checked, and the chunks the store lacks counted (the job's total). Then per
 * snapshot, under the group's backup lock and a writer lease (so a local GC keeps what arrives): its indexes and
 * blobs are written, every chunk the store lacks fetched and verified (CRC, and for a plain chunk its decoded
 * content against its digest and length; an encrypted one can only be checked by CRC without the key, as PBS's
 * sync does), and the manifest written last. A failure removes the partial snapshot.
 */
export async function pullSnapshots(
  bucket: Bucket,
  store: Datastore,
  snapshots: readonly RemoteSnapshot[],
  options: PullOptions = {},
): Promise<PullResult> {
  return new PullJob(bucket, store, snapshots, options).run();
}

class PullJob {
  private readonly progress: PullProgress;
  private readonly meter = new RateMeter(0);
  private readonly report: ReturnType<typeof throttle<PullProgress>>;
  private readonly pulled: string[] = [];
  private readonly present: string[] = [];
  private readonly metadata = new Map<string, SnapshotMetadata>();

  constructor(
    private readonly bucket: Bucket,
    private readonly store: Datastore,
    private readonly snapshots: readonly RemoteSnapshot[],
    private readonly options: PullOptions,
  ) {
    this.progress = {
      phase: 'listing',
      snapshotsTotal: snapshots.length,
      snapshotsDone: 0,
      chunksToFetch: 0,
      chunksFetched: 0,
      bytesDone: 0,
      dataTotal: 0,
      dataDone: 0,
      currentSnapshot: '',
      rate: 0,
      elapsedMs: 0,
    };
    this.report = throttle((p: PullProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 200);
  }

  async run(): Promise<PullResult> {
    this.report.flush(this.progress);
    await this.listAll();
    this.progress.phase = 'downloading';
    for (const group of groupsOf(this.snapshots)) {
      const session = this.store.startBackup(group.ref, `pull of ${groupPath(group.ref)} from ${this.bucket.name}`);
      try {
        for (const snap of group.snapshots) await this.pullOne(snap, session);
      } finally {
        session.release();
      }
    }
    this.progress.currentSnapshot = '';
    this.report.flush(this.sample());
    return { ...this.progress, pulled: this.pulled, present: this.present, requests: this.bucket.requests };
  }

  private isLocal(snap: RemoteSnapshot): boolean {
    return existsSync(join(this.store.snapshotDir(snap), MANIFEST_NAME));
  }

  /** Every snapshot's metadata, checked, and the chunks the store lacks counted (each once). */
  private async listAll(): Promise<void> {
    const counted = new Set<string>();
    let kept = 0;
    for (const snap of this.snapshots) {
      throwIfCancelled(this.options.signal, 'pull');
      if (this.isLocal(snap)) continue;
      this.progress.currentSnapshot = snap.path;
      const meta = await this.fetchMetadata(snap);
      const prefix = snapshotPrefix(snap, formatBackupTime(snap.time));
      for (const [name, raw] of meta.files) {
        if (name.endsWith('.blob')) continue;
        const index = openIndex(`remote ${this.bucket.name}: ${prefix}${name}`, raw);
        for (let i = 0; i < index.chunkCount; i++) {
          const digest = index.digest(i);
          const hex = digest.toString('hex');
          if (counted.has(hex) || this.store.chunks.exists(digest)) continue;
          counted.add(hex);
          this.progress.chunksToFetch++;
          this.progress.dataTotal += index.chunkEnd(i) - index.chunkStart(i);
        }
      }
      const size = [...meta.files.values()].reduce((n, b) => n + b.length, meta.rawManifest.length);
      if (kept + size <= METADATA_BUDGET) {
        this.metadata.set(snap.path, meta);
        kept += size;
      }
    }
    this.meter.setTotal(this.progress.dataTotal);
  }

  private async pullOne(snap: RemoteSnapshot, session: BackupSession): Promise<void> {
    throwIfCancelled(this.options.signal, 'pull');
    this.progress.currentSnapshot = snap.path;
    const dir = this.store.snapshotDir(snap);
    if (this.isLocal(snap)) {
      this.present.push(snap.path);
    } else {
      await this.ensureGroup(snap);
      // Under the group's lock no local backup writes here: a folder without manifest is a pull that died.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      session.holdSnapshot(snap, false);
      try {
        await this.fetchSnapshot(snap, dir);
      } catch (err) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      this.pulled.push(snap.path);
    }
    this.progress.snapshotsDone++;
    this.report.push(this.sample());
  }

  /** The manifest (which must name the snapshot), then its indexes and blobs, each checked against it. */
  private async fetchMetadata(snap: RemoteSnapshot): Promise<SnapshotMetadata> {
    const prefix = snapshotPrefix(snap, formatBackupTime(snap.time));
    const rawManifest = await this.fetch(`${prefix}${MANIFEST_NAME}`, `the manifest of ${snap.path}`);
    const manifest = decodeManifest(rawManifest, `${this.bucket.name}:${prefix}${MANIFEST_NAME}`);
    if (
      snapshotPath({ type: manifest['backup-type'], id: manifest['backup-id'], time: manifest['backup-time'] }) !==
      snap.path
    )
      throw new CairnError(
        'CORRUPT',
        `remote ${this.bucket.name}: the manifest of ${snap.path} names another snapshot`,
      );
    const files = new Map<string, Buffer>();
    for (const file of manifest.files) {
      const raw = await this.fetch(`${prefix}${file.filename}`, `${file.filename} of ${snap.path}`);
      assertMatchesManifest(raw, file, `remote ${this.bucket.name}: ${prefix}${file.filename}`);
      files.set(file.filename, raw);
    }
    return { rawManifest, manifest, files };
  }

  private async fetchSnapshot(snap: RemoteSnapshot, dir: string): Promise<void> {
    const meta = this.metadata.get(snap.path) ?? (await this.fetchMetadata(snap));
    this.metadata.delete(snap.path);
    for (const [name, raw] of meta.files) writeFileAtomicSync(join(dir, name), raw);
    await this.fetchChunks(dir, meta.manifest);
    this.store.chunks.syncFilesystem();
    writeFileAtomicSync(join(dir, MANIFEST_NAME), meta.rawManifest, { fsync: this.store.chunks.syncLevel === 'file' });
  }

  /** Every chunk of the snapshot's indexes that the store lacks (one already there is only touched). */
  private async fetchChunks(dir: string, manifest: Manifest): Promise<void> {
    const pool = new TransferPool(this.options.parallel ?? 8);
    const queued = new Set<string>();
    for (const file of manifest.files.filter((f) => !f.filename.endsWith('.blob'))) {
      const index = openIndex(join(dir, file.filename));
      for (let i = 0; i < index.chunkCount; i++) {
        const digest = index.digest(i);
        const length = index.chunkEnd(i) - index.chunkStart(i);
        const hex = digest.toString('hex');
        if (queued.has(hex) || this.store.chunks.markIfPresent(digest, length)) continue;
        queued.add(hex);
        throwIfCancelled(this.options.signal, 'pull');
        await pool.add(() => this.fetchChunk(hex, length));
      }
    }
    await pool.drain();
  }

  private async fetchChunk(hex: string, length: number): Promise<void> {
    const raw = await this.fetch(chunkKey(hex), `chunk ${hex}`);
    const what = `remote ${this.bucket.name}: chunk ${hex}`;
    const { kind } = checkBlob(raw, what);
    if (!isEncryptedKind(kind)) decodeBlob(raw, { digest: Buffer.from(hex, 'hex'), length, what });
    this.store.chunks.insert(hex, raw);
    this.progress.chunksFetched++;
    this.progress.dataDone += length;
    this.advance(raw.length);
  }

  private async fetch(rel: string, what: string): Promise<Buffer> {
    const raw = await this.bucket.get(rel, this.options.signal);
    if (!raw)
      throw new CairnError(
        'NOT_FOUND',
        `remote ${this.bucket.name} lacks ${what} (${rel}): its copy is damaged or incomplete`,
      );
    if (!rel.startsWith('.chunks/')) this.advance(raw.length);
    return raw;
  }

  /** The group's folder and owner file, as a backup would make them (the remote's owner when it has one). */
  private async ensureGroup(snap: RemoteSnapshot): Promise<void> {
    const dir = this.store.groupDir(snap);
    mkdirSync(dir, { recursive: true });
    const ownerPath = join(dir, OWNER_FILE);
    if (existsSync(ownerPath)) return;
    const owner = await this.bucket.get(groupFileKey(snap.type, snap.id, OWNER_FILE), this.options.signal);
    try {
      writeFileSync(ownerPath, owner && owner.length < 1024 ? owner : 'cairn@local\n', { flag: 'wx' });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError('write', ownerPath, err);
    }
  }

  private advance(bytes: number): void {
    this.progress.bytesDone += bytes;
    this.report.push(this.sample());
  }

  private sample(): PullProgress {
    return Object.assign(this.progress, this.meter.sample(this.progress.dataDone));
  }
}

function groupsOf(snapshots: readonly RemoteSnapshot[]): { ref: BackupGroupRef; snapshots: RemoteSnapshot[] }[] {
  const out = new Map<string, { ref: BackupGroupRef; snapshots: RemoteSnapshot[] }>();
  for (const s of snapshots) {
    const key = groupPath(s);
    const group = out.get(key) ?? { ref: { type: s.type, id: s.id }, snapshots: [] };
    group.snapshots.push(s);
    out.set(key, group);
  }
  return [...out.values()];
}
