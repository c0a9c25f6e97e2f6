import type { JobSpec } from '../contract/jobs.js';
import { recordedSources, restoreInPlace } from '../core/archive/in-place.js';
import { snapshotPath } from '../core/backup/backup-names.js';
import { Datastore } from '../core/datastore/datastore.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';
import { restoreProgress } from './job-progress.js';
import type { JobContext } from './job-runners.js';
import type { JobOutcome } from './job-outcome.js';

type InPlaceSpec = Extract<JobSpec, { kind: 'restore-in-place' }>;

/**
 * A restore to where the snapshot was backed up from (core/archive/in-place.ts): it decides anew per file as it
 * starts, so a file changed since the preview is still never replaced unless the user said so.
 */
export async function runInPlaceJob(spec: InPlaceSpec, ctx: JobContext, intervalMs: number): Promise<JobOutcome> {
  const store = Datastore.open(spec.store, { log: ctx.log });
  const manifest = store.readManifest(spec.snapshot);
  const r = await restoreInPlace(store, spec.snapshot, {
    path: spec.path,
    conflict: spec.conflict,
    overwriteNewer: spec.overwriteNewer,
    crypt: keyForSnapshot(manifest, ctx.keys, snapshotPath(spec.snapshot)),
    signal: ctx.signal,
    log: ctx.log,
    progressIntervalMs: intervalMs,
    onProgress: (p) => ctx.onProgress(restoreProgress('restoring', p)),
  });
  for (const item of r.items.filter((i) => i.action === 'newer-local'))
    ctx.log.info(`${item.localPath} changed since the backup: left as it is`);
  const c = r.counts;
  return {
    result: {
      kind: 'restore-in-place',
      snapshot: snapshotPath(spec.snapshot),
      path: spec.path,
      place: recordedSources(manifest)?.[0]?.path ?? '',
      restored: c.restore,
      replaced: c.overwrite,
      keptBoth: c['keep-both'],
      skipped: c.skip,
      unchanged: c.unchanged,
      newerLocal: c['newer-local'],
    },
  };
}
