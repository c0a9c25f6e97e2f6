import type { JobSpec } from '../contract/jobs.js';
import { snapshotPath, type SnapshotRef } from '../core/backup/backup-names.js';
import { Datastore } from '../core/datastore/datastore.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';
import { CairnError } from '../core/errors.js';
import { Bucket } from '../core/remote/bucket.js';
import { pullSnapshots } from '../core/remote/pull.js';
import { pushSnapshots } from '../core/remote/push.js';
import { RemoteCache } from '../core/remote/remote-cache.js';
import { listRemoteSnapshots } from '../core/remote/remote-snapshots.js';
import { AppError } from './app-errors.js';
import { PROGRESS_INTERVAL_MS, restoreEntries, type JobContext } from './job-runners.js';
import type { JobOutcome } from './job-outcome.js';
import { pullProgress, pushProgress } from './remote-progress.js';

type Spec<K extends JobSpec['kind']> = Extract<JobSpec, { kind: K }>;
type Which = { group?: { type: string; id: string }; snapshot?: SnapshotRef };

/** The bucket of the remote the host handed the job (its credentials never leave this thread). */
function bucketOf(ctx: JobContext): Bucket {
  if (!ctx.remote) throw new AppError('INTERNAL', 'the job was started without its remote');
  return new Bucket(ctx.remote.remote, ctx.remote.credentials);
}

/** Whether a snapshot is the one, or of the group, a spec names (everything when it names neither). */
function chosen(spec: Which, s: SnapshotRef): boolean {
  if (spec.snapshot) return s.type === spec.snapshot.type && s.id === spec.snapshot.id && s.time === spec.snapshot.time;
  if (spec.group) return s.type === spec.group.type && s.id === spec.group.id;
  return true;
}

function what(spec: Which): string {
  if (spec.snapshot) return snapshotPath(spec.snapshot);
  if (spec.group) return `the group ${spec.group.type}/${spec.group.id}`;
  return 'the store';
}

/** Sends the chosen finished snapshots the remote lacks; each sent or skipped one is named in the log. */
export async function runPushJob(spec: Spec<'push'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const refs = store.listGroups().flatMap((g) => store.listSnapshots(g).filter((s) => s.finished && chosen(spec, s)));
  if (refs.length === 0) throw new CairnError('NOT_FOUND', `${what(spec)} has no finished snapshot to push`);
  const bucket = bucketOf(ctx);
  try {
    const r = await pushSnapshots(store, bucket, refs, {
      signal: ctx.signal,
      log: ctx.log,
      named: new Set(spec.snapshot ? [snapshotPath(spec.snapshot)] : []),
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      onProgress: (p) => ctx.onProgress(pushProgress(p, bucket.requests)),
    });
    for (const path of r.pushed) ctx.log.info(`sent ${path}`);
    for (const path of r.present) ctx.log.info(`skipped ${path}: ${bucket.name} has it already`);
    for (const path of r.olderSkipped)
      ctx.log.info(`left out ${path}: older than the newest of its group on ${bucket.name} (pruned there?)`);
    return {
      result: {
        kind: 'push',
        remote: bucket.name,
        pushed: r.pushed.length,
        present: r.present.length,
        olderSkipped: r.olderSkipped.length,
        bytes: r.bytesDone,
        chunks: r.chunksUploaded,
        chunksFoundPresent: r.chunksFoundPresent,
        requests: r.requests,
        elapsedMs: r.elapsedMs,
      },
    };
  } finally {
    bucket.close();
  }
}

/** Brings the chosen complete remote snapshots into the store; each pulled or skipped one is named in the log. */
export async function runPullJob(spec: Spec<'pull'>, ctx: JobContext): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const bucket = bucketOf(ctx);
  try {
    ctx.onProgress({ phase: 'listing the remote', requests: 0 });
    const all = await listRemoteSnapshots(bucket, ctx.signal);
    const snapshots = all.filter((s) => s.finished && chosen(spec, s));
    if (snapshots.length === 0)
      throw new CairnError('NOT_FOUND', `${bucket.name} has no complete snapshot of ${what(spec)}`);
    const r = await pullSnapshots(bucket, store, snapshots, {
      signal: ctx.signal,
      log: ctx.log,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
      onProgress: (p) => ctx.onProgress(pullProgress(p, bucket.requests)),
    });
    for (const path of r.pulled) ctx.log.info(`pulled ${path}`);
    for (const path of r.present) ctx.log.info(`skipped ${path}: ${store.root} has it already`);
    return {
      result: {
        kind: 'pull',
        remote: bucket.name,
        pulled: r.pulled.length,
        present: r.present.length,
        bytes: r.bytesDone,
        chunks: r.chunksFetched,
        requests: r.requests,
        elapsedMs: r.elapsedMs,
      },
    };
  } finally {
    bucket.close();
  }
}

/**
 * Restores paths of a remote snapshot without pulling it: each restore is fed the chunks of the files it plans,
 * fetched into the remote's cache ahead of its writers (many requests at a time, within the cache's bound), and
 * restores from there as from a store; its card shows the restore's bytes with the requests made. The cache is
 * trimmed after.
 */
export async function runRemoteRestoreJob(spec: Spec<'remote-restore'>, ctx: JobContext): Promise<JobOutcome> {
  const bucket = bucketOf(ctx);
  const cache = await RemoteCache.open(bucket, {
    signal: ctx.signal,
    log: ctx.log,
    onPrepare: (done, total) => ctx.onProgress({ phase: 'preparing the local cache', done, total }),
  });
  try {
    await cache.fetchSnapshot(spec.snapshot);
    const crypt = keyForSnapshot(cache.store.readManifest(spec.snapshot), ctx.keys, snapshotPath(spec.snapshot));
    const folder = await cache.folder(spec.snapshot, crypt);
    const fetching: JobContext = {
      ...ctx,
      onProgress: (p) => ctx.onProgress({ ...p, phase: `${p.phase} from ${bucket.name}`, requests: bucket.requests }),
    };
    const { totals, problems } = await restoreEntries(cache.store, folder, spec, fetching, () =>
      cache.chunkFeed(folder),
    );
    const result = {
      kind: 'remote-restore' as const,
      remote: bucket.name,
      snapshot: snapshotPath(spec.snapshot),
      target: spec.target,
      ...totals,
      requests: bucket.requests,
    };
    if (totals.failed === 0) return { result };
    return { result, problems, problemCount: totals.failed };
  } finally {
    cache.close();
    bucket.close();
  }
}
