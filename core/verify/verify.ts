import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBlob, decodeBlob, isEncryptedKind } from '../blob/data-blob.js';
import { snapshotPath, type BackupGroupRef, type SnapshotRef } from '../backup/backup-names.js';
import { DigestSet } from '../chunk-store/digest-set.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';
import { errnoCode, isCairnError } from '../errors.js';
import { openIndex } from '../index/index-reader.js';
import type { ChunkIndex } from '../index/index-format.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { RateMeter, throttle, yieldToEventLoop, type RateSample } from '../jobs/rate-meter.js';
import type { Logger } from '../log.js';
import { filesInPayloadRanges } from './affected-files.js';

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
  corruptChunks: number;
  currentSnapshot: string;
}

export interface VerifyResult extends VerifyProgress {
  ok: boolean;
  snapshots: SnapshotVerifyResult[];
  missingChunks: number;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  log?: Logger;
  onProgress?: (progress: VerifyProgress) => void;
  progressIntervalMs?: number;
}

export type VerifyTarget = { snapshot: SnapshotRef } | { group: BackupGroupRef } | { store: true };

/**
 * Verifies snapshots (spec 9): each manifest's blobs and indexes against their sizes and checksums, then
 * every chunk (CRC, decode, SHA-256, length), each chunk once per job. A corrupt chunk is renamed
 * `<hex>.<N>.bad` so the next backup that has its data writes it again. The result is written to each
 * manifest as `verify_state`; a failed snapshot is never a backup base.
 */
export async function verify(store: Datastore, target: VerifyTarget, options: VerifyOptions = {}): Promise<VerifyResult> {
  const snapshots = selectSnapshots(store, target);
  const verified = new DigestSet();
  const corrupt = new Map<string, string>();
  const missing = new Set<string>();
  const sizes = snapshots.map((s) => manifestBytes(store, s));
  const bytesTotal = sizes.reduce((sum, n) => sum + n, 0);
  const progress: VerifyProgress = {
    snapshotsDone: 0, snapshotsTotal: snapshots.length, bytesDone: 0, bytesTotal, chunksChecked: 0, corruptChunks: 0,
    currentSnapshot: '', rate: 0, elapsedMs: 0,
  };
  const meter = new RateMeter(bytesTotal);
  const report = throttle((p: VerifyProgress) => options.onProgress?.({ ...p }), options.progressIntervalMs ?? 100);
  let lastYield = performance.now();
  const results: SnapshotVerifyResult[] = [];

  for (const [n, info] of snapshots.entries()) {
    throwIfCancelled(options.signal, 'verify');
    // Every snapshot ends at its share of bytesTotal, also when it is skipped or its manifest is unreadable.
    const bytesAfter = progress.bytesDone + sizes[n]!;
    const snapshotDone = (): void => {
      progress.snapshotsDone++;
      progress.bytesDone = bytesAfter;
    };
    progress.currentSnapshot = info.path;
    report.push({ ...progress, ...meter.sample(progress.bytesDone) });
    const result: SnapshotVerifyResult = { snapshot: info.path, state: 'ok', problems: [] };
    results.push(result);
    let lock;
    try {
      lock = store.lockSnapshotShared(info, `verify of ${info.path}`);
    } catch (err) {
      if (!isCairnError(err, 'LOCKED')) throw err;
      Object.assign(result, { state: 'skipped', note: (err as Error).message });
      snapshotDone();
      continue;
    }
    try {
      let manifest;
      try {
        manifest = store.readManifest(info);
      } catch (err) {
        if (isCairnError(err, 'NOT_FOUND')) {
          Object.assign(result, { state: 'skipped', note: 'forgotten while verify ran' });
          continue;
        }
        result.problems.push({ snapshot: info.path, archive: 'index.json.blob', message: (err as Error).message });
        result.state = 'failed';
        continue;
      }
      const dir = store.snapshotDir(info);
      for (const file of manifest.files) {
        const problem = (message: string, extra: Partial<VerifyProblem> = {}): void => {
          result.problems.push({ snapshot: info.path, archive: file.filename, message, ...extra });
        };
        const path = join(dir, file.filename);
        if (file.filename.endsWith('.blob')) {
          progress.bytesDone += file.size;
          checkBlobFile(path, file.size, file.csum, problem);
          continue;
        }
        let index: ChunkIndex;
        try {
          index = openIndex(path);
        } catch (err) {
          problem((err as Error).message);
          progress.bytesDone += file.size;
          continue;
        }
        if (index.csum.toString('hex') !== file.csum || index.size !== file.size) {
          problem(`${path}: index differs from the manifest (checksum or size)`);
        }
        const bad: { chunk: string; start: number; end: number; message: string }[] = [];
        for (let i = 0; i < index.chunkCount; i++) {
          const digest = index.digest(i);
          const length = index.chunkEnd(i) - index.chunkStart(i);
          progress.bytesDone += length;
          if (verified.has(digest)) continue;
          const hex = digest.toString('hex');
          const known = corrupt.get(hex);
          const message = known ?? checkChunk(store, hex, length, file['crypt-mode'] === 'encrypt', missing);
          if (message === undefined) {
            verified.add(digest);
          } else {
            if (!known) {
              corrupt.set(hex, message);
              progress.corruptChunks++;
              options.log?.warn(`${info.path}/${file.filename}: ${message}`);
            }
            bad.push({ chunk: hex, start: index.chunkStart(i), end: index.chunkEnd(i), message });
          }
          if (known === undefined) progress.chunksChecked++;
          if (performance.now() - lastYield > 50) {
            report.push({ ...progress, ...meter.sample(progress.bytesDone) });
            await yieldToEventLoop();
            lastYield = performance.now();
            throwIfCancelled(options.signal, 'verify');
          }
        }
        const affected = bad.length > 0 ? describeAffected(store, info, file.filename, bad) : [];
        bad.forEach((b, k) => problem(b.message, { chunk: b.chunk, affects: affected[k] }));
      }
      if (result.problems.length > 0) result.state = 'failed';
      const state = result.state === 'failed' ? 'failed' : 'ok';
      try {
        store.updateManifest(info, (u) => { u.verify_state = { upid: `cairn-verify:${new Date().toISOString()}`, state }; });
      } catch (err) {
        if (!isCairnError(err, 'NOT_FOUND')) throw err;
      }
    } finally {
      lock.release();
      snapshotDone();
    }
  }
  progress.currentSnapshot = '';
  const final = { ...progress, ...meter.sample(progress.bytesDone) };
  report.flush(final);
  return { ...final, ok: results.every((r) => r.state !== 'failed'), snapshots: results, missingChunks: missing.size };
}

function selectSnapshots(store: Datastore, target: VerifyTarget): SnapshotInfo[] {
  if ('snapshot' in target) return [store.snapshotInfo(target.snapshot)];
  const groups = 'group' in target ? [target.group] : store.listGroups();
  // Unfinished snapshots have nothing to check yet (a backup may be writing them).
  return groups.flatMap((g) => store.listSnapshots(g).filter((s) => s.finished).reverse());
}

function manifestBytes(store: Datastore, info: SnapshotInfo): number {
  try {
    return store.readManifest(info).files.reduce((sum, f) => sum + f.size, 0);
  } catch {
    return 0;
  }
}

function checkBlobFile(path: string, size: number, csum: string, problem: (m: string) => void): void {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    problem(errnoCode(err) === 'ENOENT' ? `${path} is missing` : `${path}: ${(err as Error).message}`);
    return;
  }
  if (raw.length !== size) problem(`${path}: ${raw.length} bytes, the manifest says ${size}`);
  else if (createHash('sha256').update(raw).digest('hex') !== csum) problem(`${path}: checksum differs from the manifest's`);
  else {
    try {
      const { kind } = checkBlob(raw, path);
      if (kind === 'uncompressed' || kind === 'compressed') decodeBlob(raw, { what: path });
    } catch (err) {
      problem((err as Error).message);
    }
  }
}

/** undefined if the chunk is good; otherwise what is wrong (a corrupt one is moved aside as `.bad`). */
function checkChunk(store: Datastore, hex: string, length: number, encrypted: boolean, missing: Set<string>): string | undefined {
  let raw: Buffer;
  try {
    raw = store.chunks.readRaw(hex);
  } catch (err) {
    if (isCairnError(err, 'NOT_FOUND')) {
      missing.add(hex);
      return `chunk ${hex} is missing`;
    }
    return (err as Error).message;
  }
  try {
    // Load (magic, CRC), then the crypt mode: sign-only archives have plain chunks, and a chunk of the other mode is
    // an error but is not moved aside for that alone. Without the key an encrypted chunk is checked by its CRC only.
    const { kind } = checkBlob(raw, `chunk ${hex}`);
    if (isEncryptedKind(kind) !== encrypted) {
      return `chunk ${hex} is ${encrypted ? 'not encrypted, but its archive is' : 'encrypted, but its archive is not'}`;
    }
    if (!encrypted) decodeBlob(raw, { digest: Buffer.from(hex, 'hex'), length, what: `chunk ${hex}` });
    return undefined;
  } catch (err) {
    const moved = store.chunks.renameCorrupt(hex);
    return `${(err as Error).message}${moved ? `; moved aside to ${moved.split('/').at(-1)}` : ''}`;
  }
}

function describeAffected(store: Datastore, info: SnapshotInfo, archive: string,
  bad: { start: number; end: number }[]): (string[] | undefined)[] {
  try {
    return filesInPayloadRanges(store, info, archive, bad);
  } catch {
    return bad.map(() => [`${snapshotPath(info)}/${archive} (the files it affects cannot be listed)`]);
  }
}
