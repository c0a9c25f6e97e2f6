import { formatBackupTime, groupPath, type BackupGroupRef } from '../backup/backup-names.js';
import { MANIFEST_NAME } from '../backup/manifest.js';
import { computePrune, validateKeepOptions, type KeepOptions, type PruneDecision } from '../prune/prune-selection.js';
import type { Bucket } from './bucket.js';
import { snapshotPrefix } from './bucket-layout.js';
import { listRemoteSnapshots, type RemoteSnapshot } from './remote-snapshots.js';

export interface RemotePruneOutcome extends PruneDecision<RemoteSnapshot> {
  outcome: 'kept' | 'removed' | 'would-remove';
}

/**
 * Removes one snapshot from a remote: its manifest first, so a snapshot half deleted (the service went away) never
 * looks complete, then its other files. Its chunks stay for the remote GC. A manifest that is there afterwards was
 * sent meanwhile by a push (whose files this may have deleted): the snapshot is removed once more, whole.
 */
export async function forgetRemoteSnapshot(bucket: Bucket, snap: RemoteSnapshot, signal?: AbortSignal): Promise<void> {
  const prefix = snapshotPrefix(snap, formatBackupTime(snap.time));
  const manifest = `${prefix}${MANIFEST_NAME}`;
  if (snap.finished) await bucket.deleteMany([manifest], signal);
  await bucket.deleteMany(
    snap.files.map((f) => `${prefix}${f.name}`),
    signal,
  );
  // A manifest there now was sent meanwhile: by a push re-sending a finished snapshot, or finishing one that was
  // listed unfinished (whose files this just deleted under it). Either way the snapshot goes whole.
  if (!(await bucket.head(manifest, signal))) return;
  await bucket.deleteMany([manifest], signal);
  const rest: string[] = [];
  for await (const page of bucket.list(prefix, signal)) rest.push(...page.map((o) => o.key));
  await bucket.deleteMany(rest, signal);
}

/**
 * A group's snapshots on a remote by the remote's own keep rules (PBS's, as for a local store): keep a year off
 * site, a week at home. "Now", to tell snapshots dated in the future, is the server's clock. Oldest removed first.
 */
export async function pruneRemoteGroup(
  bucket: Bucket,
  group: BackupGroupRef,
  keep: KeepOptions,
  options: { dryRun?: boolean; signal?: AbortSignal } = {},
): Promise<RemotePruneOutcome[]> {
  validateKeepOptions(keep);
  const snapshots = (await listRemoteSnapshots(bucket, options.signal)).filter(
    (s) => groupPath(s) === groupPath(group),
  );
  const now = (await bucket.serverTime(options.signal)) / 1000;
  const outcomes: RemotePruneOutcome[] = computePrune(snapshots, keep, now).map((d) => ({
    ...d,
    outcome: d.mark === 'remove' ? (options.dryRun ? 'would-remove' : 'removed') : 'kept',
  }));
  if (options.dryRun) return outcomes;
  for (const o of [...outcomes].reverse())
    if (o.mark === 'remove') await forgetRemoteSnapshot(bucket, o.snapshot, options.signal);
  return outcomes;
}
