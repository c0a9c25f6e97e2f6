// Worker thread of a folder restore: takes batches of the files (in payload order) until none are left.
import { parentPort, workerData } from 'node:worker_threads';
import { Datastore } from '../datastore/datastore.js';
import type { SnapshotRef } from '../backup/backup-names.js';
import { isCairnError } from '../errors.js';
import { FolderArchiveReader } from './folder-reader.js';
import { restoreFile, type ExistingPolicy, type FileRestoreJob } from './file-writer.js';

export interface RestoreWorkerData {
  root: string;
  snapshot: SnapshotRef;
  existing: ExistingPolicy;
  jobs: FileRestoreJob[];
  /** Where each batch of `jobs` starts; the last number is jobs.length. */
  batches: number[];
  /** Two Int32s: [0] set to 1 by the job thread to cancel; [1] the next batch to take, shared by the workers. */
  shared: SharedArrayBuffer;
}

export type RestoreWorkerMessage =
  | { type: 'progress'; files: number; bytes: number }
  /** The ids of the files written (the others were kept: they existed and overwrite was not asked for). */
  | { type: 'done'; restored: number[] }
  | { type: 'error'; message: string; code?: string };

const { root, snapshot, existing, jobs, batches, shared } = workerData as RestoreWorkerData;
const flags = new Int32Array(shared);

try {
  const reader = new FolderArchiveReader(Datastore.open(root).openSnapshot(snapshot));
  const restored: number[] = [];
  let files = 0;
  let bytes = 0;
  let last = performance.now();
  for (let batch = Atomics.add(flags, 1, 1); batch < batches.length - 1; batch = Atomics.add(flags, 1, 1)) {
    for (let i = batches[batch]!; i < batches[batch + 1]!; i++) {
      if (Atomics.load(flags, 0) === 1) throw Object.assign(new Error('restore cancelled'), { code: 'CANCELLED' });
      const job = jobs[i]!;
      const content = reader.data.slices(job.payloadOffset, job.size);
      if (restoreFile(job, content, existing, (n) => { bytes += n; }, reader.chunkDigestOf(job.payloadOffset, job.size))) restored.push(job.id);
      else bytes += job.size; // kept: counts as done, so progress reaches the total
      files++;
      if (performance.now() - last > 50) {
        parentPort!.postMessage({ type: 'progress', files, bytes } satisfies RestoreWorkerMessage);
        files = 0;
        bytes = 0;
        last = performance.now();
      }
    }
  }
  parentPort!.postMessage({ type: 'progress', files, bytes } satisfies RestoreWorkerMessage);
  parentPort!.postMessage({ type: 'done', restored } satisfies RestoreWorkerMessage);
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort!.postMessage({ type: 'error', message: e.message, code: isCairnError(err) ? err.code : e.code } satisfies RestoreWorkerMessage);
}
