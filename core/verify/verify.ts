import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DATA_ARCHIVE, META_ARCHIVE } from '../archive/archive-format.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { checkBlob, decodeBlob, isEncryptedKind } from '../blob/data-blob.js';
import { snapshotPath, type BackupGroupRef, type SnapshotRef } from '../backup/backup-names.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { MANIFEST_NAME, type Manifest, type ManifestFile } from '../backup/manifest.js';
import { DigestSet } from '../chunk-store/digest-set.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';
import {
  describeSnapshotKey,
  keyForSnapshot,
  snapshotCryptMode,
  snapshotKeyFingerprint,
} from '../datastore/snapshot-key.js';
import { errnoCode, isCairnError } from '../errors.js';
import { readRegularFile } from '../fs/regular-file.js';
import { openIndex } from '../index/index-reader.js';
import type { ChunkIndex } from '../index/index-format.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns, RateMeter, throttle, type RateSample } from '../jobs/rate-meter.js';
import { withLockAsync } from '../locks/with-lock.js';
import type { Logger } from '../log.js';
import { shortFingerprint } from '../crypto/fingerprint.js';
import { filesInPayloadRanges } from './affected-files.js';
import { checkChunk, type ChunkVerdict } from './chunk-check.js';
import { checkFolderStructure } from './folder-structure.js';

export interface VerifyProblem {
  snapshot: string;
  archive: string;
  /** The chunk at fault, if one is. */
  chunk?: string;
  message: string;
  /** Files of a folder archive whose contents the bad chunk holds (or "the folder listing"). */
  affects?: string[];
}

export interface SnapshotVerifyResult {
  snapshot: string;
  state: 'ok' | 'failed' | 'skipped';
  /** Why a snapshot was skipped (in use by a backup, vanished). */
  note?: string;
  problems: VerifyProblem[];
}

export interface VerifyProgress extends RateSample {
  snapshotsDone: number;
  snapshotsTotal: number;
  /** Logical bytes of the archives checked so far and in all. */
  bytesDone: number;
  bytesTotal: number;
  chunksChecked: number;
  /** Chunks found damaged (missing ones are counted in the result's missingChunks). */
  corruptChunks: number;
  currentSnapshot: string;
}

export interface VerifyResult extends VerifyProgress {
  ok: boolean;
  snapshots: SnapshotVerifyResult[];
  missingChunks: number;
}

export interface VerifyOptions {
  /**
   * Keys to read encrypted snapshots with, each used for the snapshots made with it (by fingerprint): their
   * signatures, chunks (decrypted, digest checked) and structure are verified. Without its key a snapshot's
   * chunks are checked by their CRC only, and the result says so.
   */
  keys?: readonly CryptConfig[];
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: VerifyProgress) => void;
  progressIntervalMs?: number;
}

export type VerifyTarget = { snapshot: SnapshotRef } | { group: BackupGroupRef } | { store: true };

/**
 * Verifies snapshots (spec 9): each manifest's blobs and indexes against their sizes and checksums, then
 * every chunk (CRC, decode, SHA-256), each chunk once per job, and a folder snapshot's structure the way
 * restore reads it. A chunk is judged only by evidence about itself: a corrupt one is renamed `<hex>.<N>.bad`
 * so the next backup that has its data writes it again; a length that differs from what its index says is
 * the index's fault. The result is written to each manifest as `verify_state`; a failed snapshot is never a
 * backup base.
 */
export async function verify(
  store: Datastore,
  target: VerifyTarget,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  return new VerifyJob(store, selectSnapshots(store, target), options).run();
}

interface BadChunk {
  chunk: string;
  start: number;
  end: number;
  message: string;
}

class VerifyJob {
  /** Chunks found sound in this job, each with its decoded length (0 for an encrypted one: unknown without the key). */
  private readonly verified = new DigestSet(20, { withValues: true });
  private readonly corrupt = new Map<string, string>();
  private readonly missing = new Set<string>();
  /** Small files whose content matched their digest (folder-structure.ts, contentKey). */
  private readonly checkedFiles = new DigestSet(18);
  private readonly sizes: number[];
  private readonly progress: VerifyProgress;
  private readonly meter: RateMeter;
  private readonly report: ReturnType<typeof throttle<VerifyProgress>>;
  private readonly turns = new EventLoopTurns();

  constructor(
    private readonly store: Datastore,
    private readonly snapshots: SnapshotInfo[],
    private readonly options: VerifyOptions,
  ) {
    this.sizes = snapshots.map((s) => manifestBytes(store, s));
    const bytesTotal = this.sizes.reduce((sum, n) => sum + n, 0);
    this.progress = {
      snapshotsDone: 0,
      snapshotsTotal: snapshots.length,
      bytesDone: 0,
      bytesTotal,
      chunksChecked: 0,
      corruptChunks: 0,
      currentSnapshot: '',
      rate: 0,
      elapsedMs: 0,
    };
    this.meter = new RateMeter(bytesTotal);
    this.report = throttle((p: VerifyProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 100);
  }

  async run(): Promise<VerifyResult> {
    const results: SnapshotVerifyResult[] = [];
    for (const [n, info] of this.snapshots.entries()) {
      throwIfCancelled(this.options.signal, 'verify');
      // Every snapshot ends at its share of bytesTotal, also when it is skipped or its manifest is unreadable.
      const bytesAfter = this.progress.bytesDone + this.sizes[n]!;
      this.progress.currentSnapshot = info.path;
      this.pushProgress();
      try {
        results.push(await this.verifySnapshot(info));
      } finally {
        this.progress.snapshotsDone++;
        this.progress.bytesDone = bytesAfter;
      }
    }
    this.progress.currentSnapshot = '';
    const final = { ...this.progress, ...this.meter.sample(this.progress.bytesDone) };
    this.report.flush(final);
    return {
      ...final,
      ok: results.every((r) => r.state !== 'failed'),
      snapshots: results,
      missingChunks: this.missing.size,
    };
  }

  private async verifySnapshot(info: SnapshotInfo): Promise<SnapshotVerifyResult> {
    const result: SnapshotVerifyResult = { snapshot: info.path, state: 'ok', problems: [] };
    let lock;
    try {
      lock = this.store.lockSnapshotShared(info, `verify of ${info.path}`);
    } catch (err) {
      if (!isCairnError(err, 'LOCKED')) throw err;
      return { ...result, state: 'skipped', note: (err as Error).message };
    }
    return withLockAsync(lock, async (): Promise<SnapshotVerifyResult> => {
      let manifest: Manifest;
      try {
        manifest = this.store.readManifest(info);
      } catch (err) {
        if (isCairnError(err, 'NOT_FOUND')) return { ...result, state: 'skipped', note: 'forgotten while verify ran' };
        result.problems.push({ snapshot: info.path, archive: 'index.json.blob', message: (err as Error).message });
        return { ...result, state: 'failed' }; // no manifest to record the outcome in
      }
      const crypt = this.keyFor(info, manifest, result);
      if (result.problems.length === 0) await this.checkArchives(info, manifest, result.problems, crypt);
      return this.finish(info, result);
    });
  }

  /**
   * The key to check an encrypted snapshot with, once its manifest's signature verifies under it (a problem
   * if not); undefined for a plain one, or one whose key was not given (noted in the result).
   */
  private keyFor(info: SnapshotInfo, manifest: Manifest, result: SnapshotVerifyResult): CryptConfig | undefined {
    if (snapshotCryptMode(manifest) === 'none') return undefined;
    const fingerprint = snapshotKeyFingerprint(manifest);
    const crypt = this.options.keys?.find((k) => k.fingerprint() === fingerprint);
    if (!crypt) {
      // A key that was given but is another one is said so: "checked without the key" alone reads as a pass.
      const given = (this.options.keys ?? []).map((k) => shortFingerprint(k.fingerprint()));
      const other = given.length > 0 ? ` (not the key given, ${given.join(', ')})` : '';
      if (snapshotCryptMode(manifest) === 'encrypt')
        result.note = `checked without ${describeSnapshotKey(manifest)}${other}: its chunks by their CRC only`;
      return undefined;
    }
    try {
      return keyForSnapshot(manifest, crypt, `snapshot ${info.path}`);
    } catch (err) {
      result.problems.push({ snapshot: info.path, archive: MANIFEST_NAME, message: (err as Error).message });
      return undefined;
    }
  }

  /** Records the outcome in the manifest (a snapshot forgotten meanwhile has none to write to). */
  private finish(info: SnapshotInfo, result: SnapshotVerifyResult): SnapshotVerifyResult {
    if (result.problems.length > 0) result.state = 'failed';
    const state = result.state === 'failed' ? 'failed' : 'ok';
    try {
      this.store.updateManifest(info, (u) => {
        u.verify_state = { upid: `cairn-verify:${new Date().toISOString()}`, state };
      });
    } catch (err) {
      if (!isCairnError(err, 'NOT_FOUND')) throw err;
    }
    return result;
  }

  private async checkArchives(
    info: SnapshotInfo,
    manifest: Manifest,
    problems: VerifyProblem[],
    crypt: CryptConfig | undefined,
  ): Promise<void> {
    const problem = (archive: string, message: string, extra: Partial<VerifyProblem> = {}): void => {
      problems.push({ snapshot: info.path, archive, message, ...extra });
    };
    if (manifest.files.length === 0) {
      problem('index.json.blob', 'the manifest lists no archives: there is nothing to restore');
      return;
    }
    const names = manifest.files.map((f) => f.filename);
    if (names.includes(META_ARCHIVE) !== names.includes(DATA_ARCHIVE)) {
      problem(
        'index.json.blob',
        `a folder snapshot needs both ${META_ARCHIVE} and ${DATA_ARCHIVE}; the manifest lists one of them`,
      );
    }
    const indexes = this.openIndexes(info, manifest, problem, crypt);
    // The structure first: the chunks it reads (the listing, small files' content) are checked as it reads them,
    // and the chunk pass then skips them. Its findings only mean something once every chunk is sound.
    // (An encrypted archive cannot be read without its key: its chunks are checked by their CRC alone.)
    const readable = crypt !== undefined || manifest.files.every((f) => f['crypt-mode'] !== 'encrypt');
    const structure =
      problems.length === 0 && readable && FolderArchiveReader.hasFolderArchive(names)
        ? await checkFolderStructure(this.store.openSnapshot(info, { crypt }), {
            checkedFiles: this.checkedFiles,
            pace: () => this.pace(),
            onChunkVerified: (digest, length) => this.noteVerified(digest, length),
          })
        : [];
    const before = problems.length;
    for (const { index, file, path } of indexes) {
      await this.checkChunks(info, path, file, index, crypt, (m, extra) => problem(file.filename, m, extra));
    }
    if (problems.length === before)
      for (const p of structure) problem(META_ARCHIVE, `${p.path}: ${p.message}`, { affects: [p.path] });
  }

  /** Checks the blobs, and opens the indexes (each against the manifest); returns the indexes that open. */
  private openIndexes(
    info: SnapshotInfo,
    manifest: Manifest,
    problem: (archive: string, message: string) => void,
    crypt: CryptConfig | undefined,
  ): { index: ChunkIndex; file: ManifestFile; path: string }[] {
    const dir = this.store.snapshotDir(info);
    const out: { index: ChunkIndex; file: ManifestFile; path: string }[] = [];
    for (const file of manifest.files) {
      const path = join(dir, file.filename);
      if (file.filename.endsWith('.blob')) {
        this.progress.bytesDone += file.size;
        checkBlobFile(path, file, crypt, (m) => problem(file.filename, m));
        continue;
      }
      try {
        const index = openIndex(path);
        if (index.csum.toString('hex') !== file.csum || index.size !== file.size) {
          problem(file.filename, `${path}: index differs from the manifest (checksum or size)`);
        }
        out.push({ index, file, path });
      } catch (err) {
        problem(file.filename, (err as Error).message);
        this.progress.bytesDone += file.size;
      }
    }
    return out;
  }

  /** A chunk the structure check read and found sound: known good for the rest of this job. */
  private noteVerified(digest: Buffer, length: number): void {
    if (this.verified.valueOf(digest) !== undefined) return;
    this.verified.add(digest, length);
    this.progress.chunksChecked++;
  }

  private async checkChunks(
    info: SnapshotInfo,
    path: string,
    file: ManifestFile,
    index: ChunkIndex,
    crypt: CryptConfig | undefined,
    problem: (message: string, extra?: Partial<VerifyProblem>) => void,
  ): Promise<void> {
    const bad: BadChunk[] = [];
    const wrongLengths: string[] = [];
    for (let i = 0; i < index.chunkCount; i++) {
      const digest = index.digest(i);
      const length = index.chunkEnd(i) - index.chunkStart(i);
      this.progress.bytesDone += length;
      const encrypted = file['crypt-mode'] === 'encrypt';
      const verdict = this.judge(digest, encrypted, encrypted ? crypt : undefined, `${info.path}/${file.filename}`);
      if (verdict.ok) {
        if (verdict.length > 0 && verdict.length !== length && wrongLengths.length < 10) {
          wrongLengths.push(
            `entry ${i} gives chunk ${digest.toString('hex')} ${length} bytes, but it holds ${verdict.length}`,
          );
        }
      } else {
        bad.push({
          chunk: digest.toString('hex'),
          start: index.chunkStart(i),
          end: index.chunkEnd(i),
          message: verdict.message,
        });
      }
      await this.pace();
    }
    if (wrongLengths.length > 0) problem(`${path}: the index is damaged: ${wrongLengths.join('; ')}`);
    const affected = bad.length > 0 ? describeAffected(this.store, info, file.filename, bad, crypt) : [];
    bad.forEach((b, k) => problem(b.message, { chunk: b.chunk, affects: affected[k] }));
  }

  /** A chunk's verdict, from this job's memory or by checking it (once per job). */
  private judge(digest: Buffer, encrypted: boolean, crypt: CryptConfig | undefined, where: string): ChunkVerdict {
    const length = this.verified.valueOf(digest);
    if (length !== undefined) return { ok: true, length };
    const hex = digest.toString('hex');
    const known = this.corrupt.get(hex);
    if (known !== undefined) return { ok: false, message: known };
    const verdict = checkChunk(this.store.chunks, hex, encrypted, crypt);
    this.progress.chunksChecked++;
    if (verdict.ok) {
      this.verified.add(digest, verdict.length);
    } else {
      this.corrupt.set(hex, verdict.message);
      if (verdict.missing) this.missing.add(hex);
      else this.progress.corruptChunks++;
      this.options.log?.warn(`${where}: ${verdict.message}`);
    }
    return verdict;
  }

  /** Progress out and a look at the cancel signal, every 50 ms. */
  private pace(): Promise<void> | undefined {
    const turn = this.turns.due();
    if (!turn) return undefined;
    this.pushProgress();
    return turn.then(() => throwIfCancelled(this.options.signal, 'verify'));
  }

  private pushProgress(): void {
    this.report.push({ ...this.progress, ...this.meter.sample(this.progress.bytesDone) });
  }
}

function selectSnapshots(store: Datastore, target: VerifyTarget): SnapshotInfo[] {
  if ('snapshot' in target) return [store.snapshotInfo(target.snapshot)];
  const groups = 'group' in target ? [target.group] : store.listGroups();
  // Unfinished snapshots have nothing to check yet (a backup may be writing them).
  return groups.flatMap((g) =>
    store
      .listSnapshots(g)
      .filter((s) => s.finished)
      .reverse(),
  );
}

function manifestBytes(store: Datastore, info: SnapshotInfo): number {
  try {
    return store.readManifest(info).files.reduce((sum, f) => sum + f.size, 0);
  } catch {
    return 0;
  }
}

/** A blob against the manifest, then decoded: an encrypted one only with its key (else its CRC is all there is). */
function checkBlobFile(
  path: string,
  file: ManifestFile,
  crypt: CryptConfig | undefined,
  problem: (m: string) => void,
): void {
  let raw: Buffer;
  try {
    raw = readRegularFile(path, Math.max(file.size, 0));
  } catch (err) {
    problem(errnoCode(err) === 'ENOENT' ? `${path} is missing` : `${path}: ${(err as Error).message}`);
    return;
  }
  if (raw.length !== file.size) problem(`${path}: ${raw.length} bytes, the manifest says ${file.size}`);
  else if (createHash('sha256').update(raw).digest('hex') !== file.csum)
    problem(`${path}: checksum differs from the manifest's`);
  else {
    try {
      const { kind } = checkBlob(raw, path);
      if (!isEncryptedKind(kind) || crypt) decodeBlob(raw, { what: path, crypt });
    } catch (err) {
      problem((err as Error).message);
    }
  }
}

function describeAffected(
  store: Datastore,
  info: SnapshotInfo,
  archive: string,
  bad: { start: number; end: number }[],
  crypt: CryptConfig | undefined,
): (string[] | undefined)[] {
  try {
    return filesInPayloadRanges(store, info, archive, bad, crypt);
  } catch {
    return bad.map(() => [`${snapshotPath(info)}/${archive} (the files it affects cannot be listed)`]);
  }
}
