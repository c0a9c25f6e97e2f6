import type { JobProgress } from '../contract/jobs.js';
import type { PullProgress } from '../core/remote/pull.js';
import type { PushProgress } from '../core/remote/push.js';

/** A push's progress as a job card shows it: bytes to send, rate, ETA, snapshots and chunks, requests so far. */
export function pushProgress(p: PushProgress, requests: number, phase?: string): JobProgress {
  return {
    phase: phase ?? (p.phase === 'listing' ? 'listing the remote' : 'uploading'),
    bytesDone: p.bytesDone,
    ...(p.phase === 'listing' ? {} : { bytesTotal: p.bytesTotal }),
    rate: p.rate,
    etaSeconds: p.etaSeconds,
    snapshotsDone: p.snapshotsDone,
    snapshotsTotal: p.snapshotsTotal,
    chunksDone: p.chunksUploaded,
    chunksTotal: p.chunksToUpload,
    requests,
    currentPath: p.currentSnapshot || undefined,
  };
}

/** A pull's progress: the data the store lacks (decoded), its rate and ETA, snapshots and chunks, requests. */
export function pullProgress(p: PullProgress, requests: number): JobProgress {
  return {
    phase: p.phase === 'listing' ? 'listing the snapshots' : 'downloading',
    bytesDone: p.dataDone,
    ...(p.phase === 'listing' ? {} : { bytesTotal: p.dataTotal }),
    rate: p.rate,
    etaSeconds: p.etaSeconds,
    snapshotsDone: p.snapshotsDone,
    snapshotsTotal: p.snapshotsTotal,
    chunksDone: p.chunksFetched,
    chunksTotal: p.chunksToFetch,
    requests,
    currentPath: p.currentSnapshot || undefined,
  };
}
