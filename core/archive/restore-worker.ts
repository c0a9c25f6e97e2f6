// Worker thread of a folder restore: takes batches of the files (in payload order) until none are left.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CryptConfig } from '../blob/crypt-config.js';
import { Datastore } from '../datastore/datastore.js';
import type { SnapshotRef } from '../backup/backup-names.js';
import { isCairnError } from '../errors.js';
import { HeldDirectories, type HeldDirectory } from '../fs/held-directories.js';
import { ChunkGate, INACTIVE, type ChunkGateData } from './chunk-gate.js';
import { FolderArchiveReader } from './folder-reader.js';
import { isChunkDamage, keepDamagedCopy } from './damaged-copy.js';
import { restoreFile, type ExistingPolicy, type FileRestoreJob } from './file-writer.js';

export interface RestoreWorkerData {
  root: string;
  snapshot: SnapshotRef;
  /** The key of an encrypted snapshot (a worker of this process's own job). */
  key?: Uint8Array;
  existing: ExistingPolicy;
  /** Keep a damaged file's readable rest as `<name>.damaged` (FolderRestoreOptions.keepDamaged). */
  keepDamaged: boolean;
  jobs: FileRestoreJob[];
  /** The folders the restore planned: reached here from the root's descriptor as on the job's thread. */
  dirs: { rootPath: string; records: HeldDirectory[] };
  /** Where each batch of `jobs` starts; the last number is jobs.length. */
  batches: number[];
  /** Two Int32s: [0] set to 1 by the job thread to cancel; [1] the next batch to take, shared by the workers. */
  shared: SharedArrayBuffer;
  /** A restore from a remote: the chunks arrive as the feed fetches them; this worker is its consumer `consumer`. */
  gate?: ChunkGateData;
  consumer?: number;
  /**
   * The batches come as messages while the restore plans (RestoreBatch), `shared` then has two more Int32s:
   * [2] batches sent so far, [3] batches in all (-1 until the plan is done). `jobs` and `batches` are empty.
   */
  streaming?: boolean;
}

/** One batch of a streaming restore: the folders planned since the last one, and its files. */
export interface RestoreBatch {
  records: HeldDirectory[];
  jobs: FileRestoreJob[];
}

export type RestoreWorkerMessage =
  /** Since the last report: files and bytes done, and the ids of the files finished (written, kept or failed). */
  | { type: 'progress'; files: number; bytes: number; finished: number[] }
  /** The ids of the files written, and of those that could not be (the others were kept: overwrite was not asked for). */
  | { type: 'done'; restored: number[]; failed: { id: number; message: string }[] }
  | { type: 'error'; message: string; code?: string };

/** Spawned ahead (a restore from a remote starts its workers while it plans): the work is the first message. */
const data: RestoreWorkerData = (workerData as { deferred?: boolean } | undefined)?.deferred
  ? await new Promise<RestoreWorkerData>((resolve) => parentPort!.once('message', resolve))
  : (workerData as RestoreWorkerData);
const {
  root,
  snapshot,
  key,
  existing,
  keepDamaged,
  jobs,
  dirs: planned,
  batches,
  shared,
  gate: gateData,
  consumer = 0,
  streaming = false,
} = data;
const flags = new Int32Array(shared);
/** Set by the job's thread on a cancel (or another worker's failure): asked before each file and after each slice. */
const stopped = (): boolean => Atomics.load(flags, 0) === 1;
const gate = gateData && new ChunkGate(gateData);

class Batches {
  private readonly reader = new FolderArchiveReader(
    Datastore.open(root).openSnapshot(snapshot, { crypt: key && new CryptConfig(key) }),
    { beforeDataChunk: gate && ((i, digest) => gate.waitSync(i, digest.toString('hex'), stopped)) },
  );
  private readonly dirs = new HeldDirectories(planned.rootPath, planned.records);
  readonly restored: number[] = [];
  readonly failed: { id: number; message: string }[] = [];
  private files = 0;
  private bytes = 0;
  private finished: number[] = [];
  private last = performance.now();

  run(): void {
    try {
      if (streaming) this.runStreaming();
      else {
        for (let batch = Atomics.add(flags, 1, 1); batch < batches.length - 1; batch = Atomics.add(flags, 1, 1)) {
          for (let i = batches[batch]!; i < batches[batch + 1]!; i++) this.restore(jobs[i]!);
        }
      }
      this.flush();
    } finally {
      gate?.enter(consumer, INACTIVE);
      this.dirs.close();
    }
  }

  /** Batches as they are sent, each taken by one worker: the next one is waited for, until none is left. */
  private runStreaming(): void {
    let received = 0;
    for (let batch = Atomics.add(flags, 1, 1); ; batch = Atomics.add(flags, 1, 1)) {
      for (;;) {
        const sent = Atomics.load(flags, 2);
        if (batch < sent) break;
        const total = Atomics.load(flags, 3);
        if (total >= 0 && batch >= total) return;
        if (stopped()) throw Object.assign(new Error('restore cancelled'), { code: 'CANCELLED' });
        this.flush();
        Atomics.wait(flags, 2, sent, 100);
      }
      // Every batch comes to every worker, in order; the folders of one come with it or before. The files of
      // those before this one are another worker's (this one took its own in order): only their folders are kept.
      let mine: FileRestoreJob[] = [];
      while (received <= batch) {
        const m = receiveMessageOnPort(parentPort!);
        if (!m) {
          if (stopped()) throw Object.assign(new Error('restore cancelled'), { code: 'CANCELLED' });
          Atomics.wait(flags, 0, 0, 1);
          continue;
        }
        const { records, jobs: batchJobs } = m.message as RestoreBatch;
        planned.records.push(...records);
        if (received === batch) mine = batchJobs;
        received++;
      }
      for (const job of mine) this.restore(job);
    }
  }

  private restore(job: FileRestoreJob): void {
    if (stopped()) throw Object.assign(new Error('restore cancelled'), { code: 'CANCELLED' });
    // What lies before this file is read: the feed may let it go.
    if (gate && job.size > 0) {
      const index = this.reader.dataIndex;
      gate.enter(consumer, index.chunkAt(job.payloadOffset), index.chunkAt(job.payloadOffset + job.size - 1));
    }
    let written = 0;
    try {
      const content = this.reader.restoreContent(job.payloadOffset, job.size);
      const onBytes = (n: number): void => {
        written += n;
        this.bytes += n;
        if (performance.now() - this.last > 50) this.flush();
      };
      if (restoreFile(job, this.dirs, content, existing, onBytes, stopped)) this.restored.push(job.id);
      else this.bytes += job.size; // kept: counts as done, so progress reaches the total
    } catch (err) {
      if (isCairnError(err, 'CANCELLED')) throw err;
      const note = keepDamaged && isChunkDamage(err) ? keepDamagedCopy(job, this.dirs, this.reader, existing) : '';
      this.failed.push({ id: job.id, message: (err as Error).message + note });
      this.bytes += job.size - written;
    }
    this.files++;
    this.finished.push(job.id);
    if (performance.now() - this.last > 50) this.flush();
  }

  private flush(): void {
    parentPort!.postMessage({
      type: 'progress',
      files: this.files,
      bytes: this.bytes,
      finished: this.finished,
    } satisfies RestoreWorkerMessage);
    this.files = 0;
    this.bytes = 0;
    this.finished = [];
    this.last = performance.now();
  }
}

try {
  const work = new Batches();
  work.run();
  parentPort!.postMessage({
    type: 'done',
    restored: work.restored,
    failed: work.failed,
  } satisfies RestoreWorkerMessage);
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort!.postMessage({
    type: 'error',
    message: e.message,
    code: isCairnError(err) ? err.code : e.code,
  } satisfies RestoreWorkerMessage);
}
