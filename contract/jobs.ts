import type { Compression, GcSummary, GroupRef, KeepOptions, SnapshotRef } from './model.js';
import type { Plan, RunTrigger } from './plans.js';
import type { BackupEncryption } from './keys.js';
import type { ConflictChoice } from './find.js';

/** What the renderer asks the job engine to run. Every job runs off the host's main thread. */
export type JobSpec =
  | { kind: 'create-store'; path: string; chunkSize: number; compression: Compression }
  /**
   * `allowOtherSource`: the user confirmed that the group's recorded source moved to `source`. `encrypt`: with
   * that unlocked key (the host hands the key to the job's thread; the spec names only its fingerprint).
   */
  | {
      kind: 'backup';
      store: string;
      source: string;
      id: string;
      excludes: string[];
      allowOtherSource?: boolean;
      encrypt?: BackupEncryption;
    }
  /** `keepDamaged`: a file with a damaged chunk is also written as `<name>.damaged` (its readable rest). */
  | {
      kind: 'restore';
      store: string;
      snapshot: SnapshotRef;
      paths: string[];
      target: string;
      overwrite: boolean;
      keepDamaged?: boolean;
    }
  /** One large file (a disk image) into `host/<id>`, which records it as its source like a folder backup. */
  | {
      kind: 'backup-image';
      store: string;
      source: string;
      id: string;
      allowOtherSource?: boolean;
      encrypt?: BackupEncryption;
    }
  /**
   * An image snapshot back to the file `target`, byte for byte. With damaged chunks nothing is put in place,
   * unless `keepDamaged` keeps the readable rest as `<target>.damaged`; `archive` names one of several images.
   */
  | {
      kind: 'restore-image';
      store: string;
      snapshot: SnapshotRef;
      target: string;
      overwrite: boolean;
      keepDamaged: boolean;
      archive?: string;
    }
  | { kind: 'export-file'; store: string; snapshot: SnapshotRef; path: string; target: string }
  /**
   * `path` of a snapshot ('' for all of it) back where it was backed up from: missing files come back, the
   * `conflict` choice holds for those that differ, and one changed since the backup is left alone unless
   * `overwriteNewer` (contract/find.ts, core/archive/in-place.ts).
   */
  | {
      kind: 'restore-in-place';
      store: string;
      snapshot: SnapshotRef;
      path: string;
      conflict: ConflictChoice;
      overwriteNewer?: boolean;
    }
  | { kind: 'gc'; store: string }
  /** Forgets what the keep rules do not keep (the dry run, the simulator, is the group.prune action). */
  | { kind: 'prune'; store: string; group: GroupRef; keep: KeepOptions }
  /** Removes a group's snapshots but the protected ones, and the group once it is empty (an empty one at once). */
  | { kind: 'delete-group'; store: string; group: GroupRef }
  /** One snapshot, one group, or (neither given) every snapshot of the store. */
  | { kind: 'verify'; store: string; snapshot?: SnapshotRef; group?: GroupRef }
  /** Sends what a remote lacks: one snapshot, one group's, or (neither given) every finished one of the store. */
  | { kind: 'push'; store: string; remote: string; group?: GroupRef; snapshot?: SnapshotRef }
  /** Brings a remote's complete snapshots into the store: one, one group's, or (neither given) all of them. */
  | { kind: 'pull'; store: string; remote: string; group?: GroupRef; snapshot?: SnapshotRef }
  /** Paths of a remote snapshot restored to a folder, read through the remote's cache (nothing is pulled). */
  | {
      kind: 'remote-restore';
      remote: string;
      snapshot: SnapshotRef;
      paths: string[];
      target: string;
      overwrite: boolean;
      keepDamaged?: boolean;
    }
  /**
   * One run of a plan (backup, retention, maintenance). Started by the host's scheduler only: the renderer asks
   * for a run with plans.run-now, so it cannot hand the host a plan of its own making.
   */
  | {
      kind: 'plan-run';
      plan: Plan;
      trigger: RunTrigger;
      /** The plan's maintenance times (its runtime's), which decide whether GC and the full verify are due. */
      lastGcAt?: number;
      lastFullVerifyAt?: number;
      maintenanceFrom?: number;
      lastAttemptAt?: number;
    };

export type JobKind = JobSpec['kind'];

/** The jobs the renderer may start itself (jobs.start). */
export type StartableJobSpec = Exclude<JobSpec, { kind: 'plan-run' }>;

/**
 * `attention`: the job ran to its end but found what the user must act on (a verify that found damage, a restore
 * that left damaged files out); its `problems` name them and `advice` says what to do (as fields: the app words it).
 */
export type JobStatus = 'running' | 'done' | 'attention' | 'failed' | 'cancelled';

/** One thing a job found wrong: the file or snapshot, and why. */
export interface JobProblem {
  path: string;
  message: string;
}

/** A group whose data to back up again: its path (`host/<id>`), and its recorded source as the host describes it. */
export interface RepairGroup {
  group: string;
  source?: string;
}

/**
 * What to do about what an `attention` job found, by the kind of job that found it (jobAdvice in
 * contract/job-summary.ts words it). The repair is always the same: back up `groups` again, which writes the damaged
 * and missing chunks anew while the data is still there.
 */
export type JobAdvice =
  /** A folder restore left the damaged entries out. */
  | { kind: 'restore'; groups: RepairGroup[] }
  /** An image restore met damaged ranges; `readableRestKept`: their readable rest was written (`keepDamaged`). */
  | { kind: 'restore-image'; groups: RepairGroup[]; readableRestKept: boolean }
  /**
   * A verify found damaged snapshots. `leftOut`: the backup before it (a plan's run) also could not read some
   * entries, named after the damage.
   */
  | { kind: 'verify'; groups: RepairGroup[]; leftOut?: boolean }
  /** A backup could not read some entries: its snapshot lacks them. */
  | { kind: 'left-out' };

/** Progress of the job's current phase; fields a kind does not have are left out. */
export interface JobProgress {
  phase: string;
  filesDone?: number;
  filesTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
  /** Generic counters for phases counted in items (chunk directories, index files, prefixes). */
  done?: number;
  total?: number;
  /** Bytes per second over the last seconds. */
  rate?: number;
  /** Only once the rate means something (after a few seconds). */
  etaSeconds?: number;
  currentPath?: string;
  bytesRead?: number;
  bytesReused?: number;
  newBytes?: number;
  dedupBytes?: number;
  /** GC's mark phase: index files marked of all, and chunk stamps set. */
  indexFilesDone?: number;
  indexFilesTotal?: number;
  chunksMarked?: number;
  /** GC's sweep phase: chunk prefix folders swept of 65,536, and what went. */
  prefixesDone?: number;
  prefixesTotal?: number;
  removedChunks?: number;
  removedBytes?: number;
  pendingBytes?: number;
  /** Verify: snapshots checked, and bad chunks found. */
  snapshotsDone?: number;
  snapshotsTotal?: number;
  corruptChunks?: number;
  /** Push and pull: chunks sent or fetched of those to, and the requests made so far. */
  chunksDone?: number;
  chunksTotal?: number;
  requests?: number;
}

export interface JobLogLine {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface JobState {
  id: string;
  kind: JobKind;
  /** One line a user recognises: "Backup of /home/ann/Documents". */
  title: string;
  /** The datastore the job works on (for create-store, the new store). */
  store: string;
  status: JobStatus;
  startedAt: number;
  endedAt?: number;
  progress: JobProgress;
  /**
   * What the job did, when it ran to its end, or (a failed plan run whose backup was made) what stood before it
   * failed: counts, bytes, durations, paths (describeJobResult words them).
   */
  result?: JobResult;
  /**
   * Only on a job recorded by an older version, whose result had no `kind`: its summary as the host worded it then.
   * The app words a result itself (jobSummary in contract/job-summary.ts).
   */
  summary?: string;
  /** With status `attention`: what was wrong (the first 200; `problemCount` counts them all), and the repair. */
  problems?: JobProblem[];
  problemCount?: number;
  advice?: JobAdvice;
  /** Only on a job recorded by an older version, whose advice was a string: that advice as the host worded it then. */
  adviceText?: string;
  error?: { code: string; message: string };
  log: JobLogLine[];
}

/**
 * What a finished job did, as fields (the job's kind, or `download` for a file the web server streamed to the
 * browser). Flat scalars: it is kept in the job history as it is. Snapshot and group paths as `host/<id>/<time>`.
 */
export type JobResult =
  | { kind: 'create-store'; path: string }
  | {
      kind: 'backup';
      snapshot: string;
      files: number;
      bytes: number;
      newBytes: number;
      dedupBytes: number;
      /** Bytes of files unchanged since the base snapshot, whose chunks were reused without reading them. */
      reusedBytes: number;
      excluded: number;
      warnings: number;
      /** Entries that are there but could not be read: the snapshot lacks them (the problems name them). */
      leftOut?: number;
      base?: string;
      elapsedMs: number;
    }
  | {
      kind: 'restore';
      snapshot: string;
      target: string;
      files: number;
      bytes: number;
      /** Existing files kept (not overwritten). */
      conflicts: number;
      /** Of those, the ones there as backed up (absent in an older version's record). */
      keptSame?: number;
      /** With overwrite: existing files that differed and were replaced. */
      replaced?: number;
      /** Entries that could not be restored (named in the job's problems). */
      failed: number;
    }
  | {
      kind: 'backup-image';
      snapshot: string;
      /** The image file's name. */
      image: string;
      archive: string;
      bytes: number;
      chunks: number;
      newBytes: number;
      dedupBytes: number;
      elapsedMs: number;
    }
  | {
      kind: 'restore-image';
      snapshot: string;
      archive: string;
      target: string;
      /** With damaged ranges and "keep what can be read": where the readable rest was written. */
      written?: string;
      bytes: number;
      chunks: number;
      /** Damaged byte ranges (named in the job's problems). */
      damaged: number;
    }
  | { kind: 'export-file'; snapshot: string; path: string; target: string; bytes: number }
  /** Files by what happened to them; `place`: the (first) folder it was backed up from. */
  | {
      kind: 'restore-in-place';
      snapshot: string;
      path: string;
      place: string;
      restored: number;
      replaced: number;
      keptBoth: number;
      skipped: number;
      unchanged: number;
      newerLocal: number;
    }
  | { kind: 'download'; path: string; bytes: number }
  /** The run's counters as .gc-status keeps them, and the warnings it logged. */
  | ({ kind: 'gc'; warnings: number } & Omit<GcSummary, 'startedAt' | 'completed'>)
  | { kind: 'prune'; group: string; removed: number; failed: number; kept: number }
  | { kind: 'delete-group'; group: string; removed: number; kept: number }
  | {
      kind: 'plan-run';
      plan: string;
      snapshot?: string;
      files?: number;
      bytes?: number;
      newBytes?: number;
      pruned?: number;
      gc?: boolean;
      verify?: 'ok' | 'damaged';
      warnings?: number;
      leftOut?: number;
      /** When this run's GC and full verify ran (epoch ms), for the plan's state. */
      gcAt?: number;
      fullVerifyAt?: number;
      /** The off-site copy: pushed (snapshots sent), or deferred (a metered network). */
      offsite?: 'pushed' | 'deferred';
      pushed?: number;
    }
  | {
      kind: 'verify';
      ok: boolean;
      snapshots: number;
      failed: number;
      skipped: number;
      chunksChecked: number;
      missingChunks: number;
    }
  /**
   * `pushed`: snapshots sent; `present`: those the remote had already (skipped); `olderSkipped`: those older than
   * the newest of their group there, left out (the remote's retention may have removed them).
   */
  | {
      kind: 'push';
      remote: string;
      pushed: number;
      present: number;
      /** Absent in a result recorded before it was counted. */
      olderSkipped?: number;
      bytes: number;
      chunks: number;
      /** Chunks the listing missed but the service had (a conditional upload refused): not sent again. */
      chunksFoundPresent: number;
      requests: number;
      elapsedMs: number;
    }
  /** `present`: snapshots the store had already (skipped). `bytes`: downloaded. */
  | {
      kind: 'pull';
      remote: string;
      pulled: number;
      present: number;
      bytes: number;
      chunks: number;
      requests: number;
      elapsedMs: number;
    }
  | {
      kind: 'remote-restore';
      remote: string;
      snapshot: string;
      target: string;
      files: number;
      bytes: number;
      conflicts: number;
      keptSame?: number;
      replaced?: number;
      failed: number;
      requests: number;
    };
