// Worker thread of a folder restore: writes its share of the files, in payload order.
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
  /** Int32 flag set to 1 by the job thread to cancel. */
  cancel: SharedArrayBuffer;
}

export type RestoreWorkerMessage =
  | { type: 'progress'; files: number; bytes: number }
  /** The ids of the files written (the others were kept: they existed and overwrite was not asked for). */
  | { type: 'done'; restored: number[] }
  | { type: 'error'; message: string; code?: string };

const { root, snapshot, existing, jobs, cancel } = workerData as RestoreWorkerData;
const cancelled = new Int32Array(cancel);

try {
  const reader = new FolderArchiveReader(Datastore.open(root).openSnapshot(snapshot));
  const restored: number[] = [];
  let files = 0;
  let bytes = 0;
  let last = performance.now();
  for (const job of jobs) {
    if (Atomics.load(cancelled, 0) === 1) throw Object.assign(new Error('restore cancelled'), { code: 'CANCELLED' });
    const content = reader.data.slices(job.payloadOffset, job.size);
    if (restoreFile(job, content, existing, (n) => { bytes += n; }, reader.chunkDigestOf(job.payloadOffset, job.size))) restored.push(job.id);
    files++;
    if (performance.now() - last > 50) {
      parentPort!.postMessage({ type: 'progress', files, bytes } satisfies RestoreWorkerMessage);
      files = 0;
      bytes = 0;
      last = performance.now();
    }
  }
  parentPort!.postMessage({ type: 'progress', files, bytes } satisfies RestoreWorkerMessage);
  parentPort!.postMessage({ type: 'done', restored } satisfies RestoreWorkerMessage);
} catch (err) {
  const e = err as Error & { code?: string };
  parentPort!.postMessage({ type: 'error', message: e.message, code: isCairnError(err) ? err.code : e.code } satisfies RestoreWorkerMessage);
}
