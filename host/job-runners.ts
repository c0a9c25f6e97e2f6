import type { ChunkFeed } from '../core/archive/chunk-gate.js';
import { closeSync, constants, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { JobAdvice, JobProblem, JobProgress, JobResult, JobSpec, RepairGroup } from '../contract/jobs.js';
import { EntryKind } from '../core/archive/archive-format.js';
import { backupFolder } from '../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../core/archive/folder-reader.js';
import { restoreFolder } from '../core/archive/folder-restore.js';
import { groupPath, parseSnapshotPath, snapshotPath, type BackupGroupRef } from '../core/backup/backup-names.js';
import { formatBytes, formatCount } from '../contract/format.js';
import { Datastore } from '../core/datastore/datastore.js';
import { describeSource } from '../core/datastore/group-source.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';
import type { SnapshotRef } from '../contract/model.js';
import { collectGarbage } from '../core/gc/garbage-collection.js';
import { backupImage } from '../core/image/image-backup.js';
import { restoreImage } from '../core/image/image-restore.js';
import { deleteGroup } from '../core/prune/forget.js';
import { computePrune } from '../core/prune/prune-selection.js';
import { pruneGroup } from '../core/prune/prune.js';
import { verify, type VerifyTarget } from '../core/verify/verify.js';
import { CairnError, ioError, KeyRequiredError } from '../core/errors.js';
import { writeAllSync } from '../core/fs/atomic-write.js';
import { ownedTmpName, removeDeadProcessTmps } from '../core/fs/owned-tmp.js';
import { EventLoopTurns } from '../core/jobs/rate-meter.js';
import { throwIfCancelled } from '../core/jobs/cancel.js';
import type { Logger } from '../core/log.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import { shortFingerprint } from '../core/crypto/fingerprint.js';
import { folderBackupProgress, imageBackupProgress, restoreProgress } from './job-progress.js';
import { runPlanJob } from './plan-run-job.js';
import type { RemoteAccess } from './host-remotes.js';
import { runPullJob, runPushJob, runRemoteRestoreJob } from './remote-jobs.js';
import { runInPlaceJob } from './in-place-job.js';
import { leftOutProblems } from './left-out-problems.js';
import type { JobOutcome } from './job-outcome.js';

export interface JobContext {
  signal: AbortSignal;
  onProgress(progress: JobProgress): void;
  log: Logger;
  /** The keys the host handed this job: a backup's key, or the unlocked keys to read snapshots with. */
  keys?: readonly CryptConfig[];
  /** The remote the host handed this job, with its credentials (push, pull, a remote restore, a plan's push). */
  remote?: RemoteAccess;
}

/** The key a backup encrypts with: the one its spec names, which the host must have handed over. */
function backupKey(spec: { encrypt?: { keyFingerprint: string } }, ctx: JobContext): CryptConfig | undefined {
  if (!spec.encrypt) return undefined;
  const wanted = spec.encrypt.keyFingerprint.toLowerCase();
  const crypt = ctx.keys?.find((k) => k.fingerprint() === wanted);
  if (!crypt) throw new KeyRequiredError(wanted, `the key ${shortFingerprint(wanted)} is locked: unlock it first`);
  return crypt;
}

/** How a job ended, as fields: the renderer words the result (contract/job-summary.ts). */
/** Problems a job card lists; the count says how many there were in all. */
const MAX_PROBLEMS = 200;

/** Core reports progress at most this often; the engine throttles again on its side. */
export const PROGRESS_INTERVAL_MS = 100;

/** Runs one job with core's functions. Called on a worker thread by the engine (or inline in tests). */
export async function runJob(spec: JobSpec, ctx: JobContext): Promise<JobOutcome> {
  switch (spec.kind) {
    case 'create-store':
      return runCreateStoreJob(spec, ctx);
    case 'backup':
      return runBackupJob(spec, ctx);
    case 'restore':
      return runRestoreJob(spec, ctx);
    case 'backup-image':
      return runImageBackupJob(spec, ctx);
    case 'restore-image':
      return runImageRestoreJob(spec, ctx);
    case 'gc':
      return runGcJob(spec, ctx);
    case 'prune':
      return runPruneJob(spec, ctx);
    case 'delete-group':
      return runDeleteGroupJob(spec, ctx);
    case 'verify':
      return runVerifyJob(spec, ctx);
    case 'export-file':
      return runExportJob(spec, ctx);
    case 'restore-in-place':
      return runInPlaceJob(spec, ctx, PROGRESS_INTERVAL_MS);
    case 'plan-run':
      return runPlanJob(spec, ctx);
    case 'push':
      return runPushJob(spec, ctx);
    case 'pull':
      return runPullJob(spec, ctx);
    case 'remote-restore':
      return runRemoteRestoreJob(spec, ctx);
  }
}

type Spec<K extends JobSpec['kind']> = Extract<JobSpec, { kind: K }>;

async function runCreateStoreJob(spec: Spec<'create-store'>, ctx: JobContext): Promise<JobOutcome> {
  const store = await Datastore.create(spec.path, {
    chunkSize: spec.chunkSize,
    compression: spec.compression,
    signal: ctx.signal,
    log: ctx.log,
    onProgress: (done, total) => ctx.onProgress({ phase: 'creating chunk folders', done, total }),
  });
  return { result: { kind: 'create-store', path: store.root } };
}

async function runBackupJob(spec: Spec<'backup'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const r = await backupFolder(store, spec.source, {
    id: spec.id,
    excludes: spec.excludes,
    allowOtherSource: spec.allowOtherSource,
    crypt: backupKey(spec, ctx),
    signal: ctx.signal,
    log: ctx.log,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (p) => ctx.onProgress(folderBackupProgress(p)),
  });
  return {
    result: {
      kind: 'backup',
      snapshot: r.path,
      files: r.stats.files,
      bytes: r.stats.bytes,
      newBytes: r.newBytes,
      dedupBytes: r.dedupBytes,
      reusedBytes: r.bytesReused,
      excluded: r.excluded,
      warnings: r.warnings.length,
      leftOut: r.leftOut.count,
      base: r.base,
      elapsedMs: r.elapsedMs,
    },
    ...leftOutProblems(r.leftOut.count, r.leftOut.named),
  };
}

async function runGcJob(spec: Spec<'gc'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const r = await collectGarbage(store, {
    signal: ctx.signal,
    log: ctx.log,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (p) =>
      ctx.onProgress({
        phase: p.phase,
        indexFilesDone: p.indexFilesDone,
        indexFilesTotal: p.indexFilesTotal,
        chunksMarked: p.chunksMarked,
        prefixesDone: p.prefixesDone,
        prefixesTotal: p.prefixesTotal,
        removedChunks: p.removedChunks,
        removedBytes: p.removedBytes,
        pendingBytes: p.pendingBytes,
      }),
  });
  return {
    result: {
      kind: 'gc',
      removedChunks: r.removedChunks,
      removedBytes: r.removedBytes,
      pendingChunks: r.pendingChunks,
      pendingBytes: r.pendingBytes,
      diskChunks: r.diskChunks,
      diskBytes: r.diskBytes,
      indexFileCount: r.indexFileCount,
      indexDataBytes: r.indexDataBytes,
      dedupFactor: r.dedupFactor,
      durationMs: r.durationMs,
      missingChunks: r.missingChunks,
      warnings: r.warnings.length,
    },
  };
}

/** Prunes one group by its keep rules, a step of progress per snapshot it removes. */
function runPruneJob(spec: Spec<'prune'>, ctx: JobContext): JobOutcome {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const total = computePrune(store.listSnapshots(spec.group), spec.keep, store.chunks.clock.now() / 1000).filter(
    (d) => d.mark === 'remove',
  ).length;
  let done = 0;
  ctx.onProgress({ phase: 'pruning', done, total });
  // Core logs one line per snapshot it removed (info) or could not remove (warn): each is one step done.
  const counting = {
    info: (m: string) => {
      ctx.log.info(m);
      ctx.onProgress({ phase: 'pruning', done: ++done, total });
    },
    warn: (m: string) => {
      ctx.log.warn(m);
      ctx.onProgress({ phase: 'pruning', done: ++done, total });
    },
  };
  const outcomes = pruneGroup(store, spec.group, spec.keep, { log: counting });
  const removed = outcomes.filter((o) => o.outcome === 'removed').length;
  const failed = outcomes.filter((o) => o.outcome === 'failed').length;
  return {
    result: {
      kind: 'prune',
      group: groupPath(spec.group),
      removed,
      failed,
      kept: outcomes.length - removed - failed,
    },
  };
}

/** Of the keys handed over, the one a snapshot needs (none for a plain one; KEY_REQUIRED when it is not there). */
function keyOf(store: Datastore, ref: SnapshotRef, ctx: JobContext): CryptConfig | undefined {
  return keyForSnapshot(store.readManifest(ref), ctx.keys, snapshotPath(ref));
}

/** Restores each selected path; what could not be restored is named, the rest is restored (status attention). */
async function runRestoreJob(spec: Spec<'restore'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const reader = new FolderArchiveReader(store.openSnapshot(spec.snapshot, { crypt: ctx.keys }));
  const { totals, problems } = await restoreEntries(store, reader, spec, ctx);
  const result: JobResult = { kind: 'restore', snapshot: snapshotPath(spec.snapshot), target: spec.target, ...totals };
  if (totals.failed === 0) return { result };
  return {
    result,
    problems,
    problemCount: totals.failed,
    advice: { kind: 'restore', groups: repairGroups(store, [spec.snapshot]) },
  };
}

/** A restore's totals, and the first problems it met (each entry it could not restore). */
export interface RestoreTotals {
  totals: { files: number; bytes: number; conflicts: number; keptSame: number; replaced: number; failed: number };
  problems: JobProblem[];
}

/** The selected paths of an opened snapshot restored into the target, one after another (a local or a cached one). */
export async function restoreEntries(
  store: Datastore,
  reader: FolderArchiveReader,
  spec: { snapshot: SnapshotRef; paths: string[]; target: string; overwrite: boolean; keepDamaged?: boolean },
  ctx: JobContext,
  /** Where chunks not in the store come from (a remote's cache): a feed for each restore. */
  chunkFeed?: () => ChunkFeed,
): Promise<RestoreTotals> {
  const totals = { files: 0, bytes: 0, conflicts: 0, keptSame: 0, replaced: 0, failed: 0 };
  const problems: JobProblem[] = [];
  for (const [i, path] of spec.paths.entries()) {
    throwIfCancelled(ctx.signal, 'restore');
    const entry = reader.get(path);
    // A selected folder arrives under its own name; the snapshot's root and files go straight into the target.
    const into =
      entry.kind === EntryKind.Directory && path !== '' ? join(spec.target, entry.name.toString()) : spec.target;
    const phase = spec.paths.length > 1 ? `restoring ${i + 1} of ${spec.paths.length}` : 'restoring';
    const r = await restoreFolder(store, spec.snapshot, into, {
      path,
      crypt: reader.snapshot.crypt,
      overwrite: spec.overwrite,
      keepDamaged: spec.keepDamaged,
      chunkFeed: chunkFeed?.(),
      signal: ctx.signal,
      log: ctx.log,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      onProgress: (p) => ctx.onProgress(restoreProgress(phase, p)),
    });
    totals.files += r.filesRestored;
    totals.bytes += r.bytesRestored;
    totals.conflicts += r.conflicts;
    totals.keptSame += r.keptSame;
    totals.replaced += r.replaced;
    totals.failed += r.failedCount;
    problems.push(...r.failed.slice(0, MAX_PROBLEMS - problems.length));
  }
  return { totals, problems };
}

/** Backs up one disk image; its bytes, rate and what was new show on the job card as a folder backup's do. */
async function runImageBackupJob(spec: Spec<'backup-image'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const r = await backupImage(store, spec.source, {
    id: spec.id,
    allowOtherSource: spec.allowOtherSource,
    crypt: backupKey(spec, ctx),
    signal: ctx.signal,
    log: ctx.log,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (p) => ctx.onProgress({ ...imageBackupProgress(p), currentPath: spec.source }),
  });
  return {
    result: {
      kind: 'backup-image',
      snapshot: r.path,
      image: basename(spec.source),
      archive: r.archive,
      bytes: r.bytesTotal,
      chunks: r.chunks,
      newBytes: r.newBytes,
      dedupBytes: r.dedupBytes,
      elapsedMs: r.elapsedMs,
    },
  };
}

/**
 * Restores an image to a file (its folder is made if need be). Damaged chunks do not stop it: each damaged
 * byte range is named, and the job needs attention, since the file would not be the image that was backed up.
 */
async function runImageRestoreJob(spec: Spec<'restore-image'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  try {
    mkdirSync(dirname(spec.target), { recursive: true });
  } catch (err) {
    throw ioError('create the folder of', spec.target, err);
  }
  const r = await restoreImage(store, spec.snapshot, spec.target, {
    archiveName: spec.archive,
    crypt: keyOf(store, spec.snapshot, ctx),
    overwrite: spec.overwrite,
    keepDamaged: spec.keepDamaged,
    signal: ctx.signal,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (p) =>
      ctx.onProgress({
        phase: 'restoring',
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        rate: p.rate,
        etaSeconds: p.etaSeconds,
        currentPath: spec.target,
      }),
  });
  const result: JobResult = {
    kind: 'restore-image',
    snapshot: snapshotPath(spec.snapshot),
    target: r.target,
    written: r.written,
    archive: r.archive,
    bytes: r.size,
    chunks: r.chunks,
    damaged: r.damaged.length,
  };
  if (r.damaged.length === 0) return { result };
  const problems = r.damaged.map((d) => ({
    path: `bytes ${formatCount(d.start)}–${formatCount(d.end - 1)} (${formatBytes(d.end - d.start)})`,
    message: d.message,
  }));
  for (const p of problems) ctx.log.warn(`${p.path}: ${p.message}`);
  return {
    result,
    problems: problems.slice(0, MAX_PROBLEMS),
    problemCount: problems.length,
    advice: {
      kind: 'restore-image',
      groups: repairGroups(store, [spec.snapshot]),
      readableRestKept: Boolean(r.written),
    },
  };
}

/** Deletes a group: its snapshots one by one (counted on the card), the protected ones kept and said so. */
function runDeleteGroupJob(spec: Spec<'delete-group'>, ctx: JobContext): JobOutcome {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const total = store.listSnapshots(spec.group).filter((s) => !s.protected).length;
  ctx.onProgress({ phase: 'deleting snapshots', done: 0, total });
  const { removed, kept } = deleteGroup(store, spec.group, {
    onRemoved: (done) => ctx.onProgress({ phase: 'deleting snapshots', done, total }),
  });
  return { result: { kind: 'delete-group', group: groupPath(spec.group), removed, kept } };
}

/** Verifies; a snapshot found damaged makes the job one that needs attention, naming the files and the repair. */
async function runVerifyJob(spec: Spec<'verify'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const target: VerifyTarget = spec.snapshot
    ? { snapshot: spec.snapshot }
    : spec.group
      ? { group: spec.group }
      : { store: true };
  const r = await verify(store, target, {
    keys: ctx.keys,
    signal: ctx.signal,
    log: ctx.log,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    onProgress: (p) =>
      ctx.onProgress({
        phase: 'verifying',
        snapshotsDone: p.snapshotsDone,
        snapshotsTotal: p.snapshotsTotal,
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        rate: p.rate,
        etaSeconds: p.etaSeconds,
        corruptChunks: p.corruptChunks,
        currentPath: p.currentSnapshot,
      }),
  });
  const failed = r.snapshots.filter((s) => s.state === 'failed');
  const problems = failed
    .flatMap((s) => s.problems)
    .map((p) => ({
      path: `${p.snapshot}${p.affects?.length ? `: ${p.affects.join(', ')}` : ` (${p.archive})`}`,
      message: p.message,
    }));
  for (const p of problems) ctx.log.warn(`${p.path}: ${p.message}`);
  const skipped = r.snapshots.filter((s) => s.state === 'skipped').length;
  const result: JobResult = {
    kind: 'verify',
    ok: r.ok,
    snapshots: r.snapshots.length,
    failed: failed.length,
    skipped,
    chunksChecked: r.chunksChecked,
    missingChunks: r.missingChunks,
  };
  if (failed.length === 0) return { result };
  const groups = failed.map((s) => parseSnapshotPath(s.snapshot));
  const advice: JobAdvice = { kind: 'verify', groups: repairGroups(store, groups) };
  return { result, problems: problems.slice(0, MAX_PROBLEMS), problemCount: problems.length, advice };
}

/**
 * The groups whose damaged or missing chunks a new backup writes anew, each once, with its recorded source (named
 * here, since only the host reads it; the app words the advice).
 */
function repairGroups(store: Datastore, groups: readonly BackupGroupRef[]): RepairGroup[] {
  const unique = new Map(groups.map((g) => [groupPath(g), g] as const));
  return [...unique].map(([path, group]) => {
    const source = store.groupSource(group);
    return source ? { group: path, source: describeSource(source) } : { group: path };
  });
}

/**
 * Saves one file of a snapshot: created exclusively under a name nobody can plant a symlink at in advance, never
 * followed, renamed into place once whole. The event loop is let in every 50 ms, so a cancel stops it at once.
 */
async function runExportJob(spec: Spec<'export-file'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const reader = new FolderArchiveReader(store.openSnapshot(spec.snapshot, { crypt: ctx.keys }));
  const entry = reader.get(spec.path);
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink) {
    throw new CairnError('INVALID_ARGUMENT', `${spec.path} is not a file`);
  }
  const folder = dirname(spec.target);
  removeDeadProcessTmps(folder, (name) => join(folder, name));
  const tmp = join(folder, ownedTmpName());
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (err) {
    throw ioError('write', spec.target, err);
  }
  try {
    let done = 0;
    const turns = new EventLoopTurns();
    for (const slice of reader.fileContent(entry)) {
      writeAllSync(fd, slice, done);
      done += slice.length;
      ctx.onProgress({ phase: 'saving', bytesDone: done, bytesTotal: entry.size, currentPath: spec.path });
      await turns.due();
      throwIfCancelled(ctx.signal, 'save');
    }
    closeSync(fd);
    renameSync(tmp, spec.target);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* closed already */
    }
    rmSync(tmp, { force: true });
    throw err instanceof CairnError ? err : ioError('write', spec.target, err);
  }
  return {
    result: {
      kind: 'export-file',
      snapshot: snapshotPath(spec.snapshot),
      path: spec.path,
      target: spec.target,
      bytes: entry.size,
    },
  };
}
